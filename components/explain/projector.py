"""The latent space in TensorBoard's Embedding Projector format.

Written as TensorBoard's projector plugin reads a log directory: a
`projector_config.pbtxt` (a `ProjectorConfig` text proto, built with
tensorboard.plugins.projector's own proto class) at the folder's root naming,
by paths relative to itself,

* `vectors.tsv`: one embedding per line, tab-separated floats. TSV rather
  than the raw float32 alternative because it is the format the plugin
  documents and reads first (binary files are only tried after a Unicode
  error) and the format projector.tensorflow.org's "Load" dialog accepts, so
  the files can be explored without a TensorBoard server. Four significant
  digits keep it to ~8.7 KB per image (173 MB at 20,000 images);
* `metadata.tsv`: a header line (required when there is more than one
  column) then one row per vector: image id, cohort, and per output the
  truth, the prediction, its probability and whether it is right;
* `sprite.jpg`: the faces as thumbnails, row-major in a square grid of
  ceil(sqrt(n)) per side, each `single_image_dim` = [width, height] pixels.
  The browser loads the sprite as one WebGL texture, so its side is capped
  at 8,192 pixels and the thumbnails shrink for large sets. JPEG, because
  photos of faces compress four times better than as PNG (18 MB instead
  of 81 MB at 20,000 faces); the plugin serves either.

View with `tensorboard --logdir <folder>` (the Projector tab), or upload
vectors.tsv and metadata.tsv at projector.tensorflow.org.
"""

import dataclasses
import io
import math
import os
from typing import List, Sequence, Tuple

import numpy as np
from google.protobuf import text_format
from PIL import Image
from tensorboard.plugins import projector as tb_projector

from components.explain import embeddings as embeddings_lib
from components.explain import examples
from components.explain import outputs
from models import features

CONFIG_FILE = 'projector_config.pbtxt'  # tensorboard's PROJECTOR_FILENAME
VECTORS_FILE = 'vectors.tsv'
METADATA_FILE = 'metadata.tsv'
SPRITE_FILE = 'sprite.jpg'
SPRITE_QUALITY = 90
TENSOR_NAME = 'embedding'

THUMBNAIL_HEIGHT = 64
SPRITE_MAX_SIDE = 8192
VECTOR_FORMAT = '%.4g'


@dataclasses.dataclass
class ProjectorFiles:
  folder: str
  num_vectors: int
  dims: int
  single_image_dim: Tuple[int, int]  # (width, height)


def label_columns(output: str) -> List[str]:
  return [f'{output}_true', f'{output}_pred', f'{output}_prob',
          f'{output}_correct']


def metadata_header(outputs_order: Sequence[str]) -> List[str]:
  header = [features.IMAGE_ID_KEY, 'cohort']
  for output in outputs_order:
    header += label_columns(output)
  return header + ['predicted_cohort']


def _value_name(output: str, value: int) -> str:
  return features.VALUE_NAMES[output][int(value)] if value >= 0 else 'unknown'


def metadata_rows(faces: examples.Faces, embedded: embeddings_lib.Embedded
                  ) -> Tuple[List[str], List[List[str]]]:
  """The metadata table: header and one row of strings per face."""
  outputs_order = [
      k for k in features.LABEL_KEYS if k in embedded.probabilities
  ]
  header = metadata_header(outputs_order)
  cohorts = faces.cohorts()
  predicted_cohorts = embedded.predicted_cohorts()
  rows = []
  for i in range(len(faces)):
    row = [_clean(faces.image_ids[i]), cohorts[i]]
    for output in outputs_order:
      truth = int(faces.labels[output][i])
      predicted = int(embedded.predicted(output)[i])
      row += [_value_name(output, truth), _value_name(output, predicted),
              f'{embedded.probabilities[output][i]:.4f}',
              ('yes' if truth == predicted else 'no') if truth >= 0 else '']
    rows.append(row + [predicted_cohorts[i]])
  return header, rows


def _clean(text: str) -> str:
  """Tabs and newlines would break the TSV."""
  return text.replace('\t', ' ').replace('\n', ' ')


def thumbnail_size(num_images: int, aspect: float,
                   height: int = THUMBNAIL_HEIGHT) -> Tuple[int, int]:
  """(width, height) of one thumbnail so the square grid fits the texture."""
  per_side = max(1, math.ceil(math.sqrt(num_images)))
  h = max(1, min(height, SPRITE_MAX_SIDE // per_side))
  w = max(1, min(SPRITE_MAX_SIDE // per_side, round(h * aspect)))
  return w, h


def _thumbnail(jpeg: bytes, size: Tuple[int, int]) -> Image.Image:
  image = Image.open(io.BytesIO(jpeg))
  # JPEG draft mode decodes at 1/2, 1/4 or 1/8 scale: several times faster
  # for thumbnails, which matters at 20,000 images.
  image.draft('RGB', size)
  return image.convert('RGB').resize(size, Image.BILINEAR)


def make_sprite(jpegs: Sequence[bytes], size: Tuple[int, int]) -> Image.Image:
  """Thumbnails row-major in a ceil(sqrt(n)) x ceil(sqrt(n)) grid."""
  per_side = max(1, math.ceil(math.sqrt(len(jpegs))))
  w, h = size
  sprite = Image.new('RGB', (per_side * w, per_side * h), (255, 255, 255))
  for i, jpeg in enumerate(jpegs):
    row, col = divmod(i, per_side)
    sprite.paste(_thumbnail(jpeg, size), (col * w, row * h))
  return sprite


def projector_config(num_vectors: int, dims: int,
                     single_image_dim: Tuple[int, int]
                     ) -> tb_projector.ProjectorConfig:
  config = tb_projector.ProjectorConfig()
  embedding = config.embeddings.add()
  embedding.tensor_name = TENSOR_NAME
  embedding.tensor_path = VECTORS_FILE
  embedding.tensor_shape.extend([num_vectors, dims])
  embedding.metadata_path = METADATA_FILE
  embedding.sprite.image_path = SPRITE_FILE
  embedding.sprite.single_image_dim.extend(list(single_image_dim))
  return config


def vectors_tsv(vectors: np.ndarray) -> bytes:
  buffer = io.BytesIO()
  np.savetxt(buffer, vectors, fmt=VECTOR_FORMAT, delimiter='\t')
  return buffer.getvalue()


def write_projector(folder: str, faces: examples.Faces,
                    embedded: embeddings_lib.Embedded) -> ProjectorFiles:
  """Writes the four projector files into `folder`."""
  n, dims = embedded.vectors.shape
  if n != len(faces):
    raise ValueError(f'{n} vectors for {len(faces)} faces')
  outputs.write_bytes(os.path.join(folder, VECTORS_FILE),
                      vectors_tsv(embedded.vectors))
  header, rows = metadata_rows(faces, embedded)
  outputs.write_text(os.path.join(folder, METADATA_FILE),
                     '\n'.join('\t'.join(r) for r in [header] + rows) + '\n')
  size = thumbnail_size(n, examples.image_aspect(faces.jpegs[0]))
  buffer = io.BytesIO()
  make_sprite(faces.jpegs, size).save(buffer, 'JPEG', quality=SPRITE_QUALITY)
  outputs.write_bytes(os.path.join(folder, SPRITE_FILE), buffer.getvalue())
  config = projector_config(n, dims, size)
  outputs.write_text(os.path.join(folder, CONFIG_FILE),
                     text_format.MessageToString(config))
  return ProjectorFiles(folder=folder, num_vectors=n, dims=dims,
                        single_image_dim=size)
