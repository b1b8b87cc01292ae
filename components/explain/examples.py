"""Labelled faces to explain: read from the pipeline's TFRecords, sampled.

The pipeline's examples (ImportExampleGen's splits, or the converter's
output) hold the original JPEG, the CelebA file name and every attribute as a
`tf.train.Example`. Only the JPEG is required; a missing label reads as -1
(unknown), so unlabelled TFRecords can still be embedded.

Sampling keeps memory bounded whatever the split size: one pass of reservoir
sampling holds at most `max_images` serialized examples (JPEG bytes, about
10 KB each for CelebA), never the whole split and never decoded pixels.
"""

import os

import dataclasses
import io
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image
import tensorflow as tf

from models import features

UNKNOWN = -1


@dataclasses.dataclass
class Faces:
  """Face images with their ids and labels (int 0/1, or -1 if unknown)."""
  image_ids: List[str]
  jpegs: List[bytes]
  labels: Dict[str, np.ndarray]

  def __len__(self) -> int:
    return len(self.jpegs)

  def cohorts(self) -> List[str]:
    """Ground-truth Male x Young cohort of each face ('unknown' if either
    label is missing)."""
    return cohorts_of(self.labels[features.MALE_KEY],
                      self.labels[features.YOUNG_KEY])


def cohorts_of(male: np.ndarray, young: np.ndarray) -> List[str]:
  return [features.cohort_name(m, y) if m >= 0 and y >= 0 else 'unknown'
          for m, y in zip(male.tolist(), young.tolist())]


def list_files(patterns: Sequence[str]) -> List[str]:
  """Files matching any of the glob patterns, sorted; a folder means all of
  its files (an ImportExampleGen split folder, for one)."""
  files = []
  for pattern in patterns:
    if tf.io.gfile.isdir(pattern):
      pattern = os.path.join(pattern, '*')
    files.extend(tf.io.gfile.glob(pattern))
  files = sorted(set(f for f in files if not tf.io.gfile.isdir(f)))
  if not files:
    raise FileNotFoundError(f'no files match {list(patterns)}')
  return files


def _records(files: Sequence[str]) -> Iterable[bytes]:
  for path in files:
    compression = 'GZIP' if path.endswith('.gz') else ''
    dataset = tf.data.TFRecordDataset(path, compression_type=compression)
    for record in dataset.as_numpy_iterator():
      yield record


def reservoir_sample(
    items: Iterable[bytes], k: int,
    rng: np.random.Generator) -> Tuple[List[int], List[bytes], int]:
  """Algorithm R: a uniform sample of k items in one pass.

  Returns the chosen items' positions (ascending), the items in that order,
  and how many items there were in all.
  """
  chosen: List[Tuple[int, bytes]] = []
  seen = 0
  for seen, item in enumerate(items, start=1):
    if len(chosen) < k:
      chosen.append((seen - 1, item))
    else:
      j = int(rng.integers(0, seen))
      if j < k:
        chosen[j] = (seen - 1, item)
  chosen.sort(key=lambda pair: pair[0])
  return [i for i, _ in chosen], [item for _, item in chosen], seen


def parse(serialized: Sequence[bytes],
          positions: Optional[Sequence[int]] = None) -> Faces:
  """Parses serialized tf.Examples; ids default to '#<position>'."""
  spec = {
      features.IMAGE_KEY: tf.io.FixedLenFeature([], tf.string),
      features.IMAGE_ID_KEY: tf.io.FixedLenFeature([], tf.string,
                                                   default_value=''),
  }
  for label in features.LABEL_KEYS:
    spec[label] = tf.io.FixedLenFeature([], tf.int64, default_value=UNKNOWN)
  positions = list(positions) if positions is not None else list(
      range(len(serialized)))
  if not serialized:
    return Faces([], [], {k: np.zeros(0, np.int64)
                          for k in features.LABEL_KEYS})
  parsed = tf.io.parse_example(tf.constant(list(serialized)), spec)
  ids = [v.decode('utf-8') or f'#{p}' for v, p in zip(
      parsed[features.IMAGE_ID_KEY].numpy().tolist(), positions)]
  return Faces(
      image_ids=ids,
      jpegs=parsed[features.IMAGE_KEY].numpy().tolist(),
      labels={k: parsed[k].numpy() for k in features.LABEL_KEYS})


def read_faces(files: Sequence[str], max_images: int,
               seed: int) -> Tuple[Faces, int]:
  """A seeded uniform sample of at most `max_images` faces from TFRecords.

  Returns the faces (in file order) and the number of examples in the files.
  """
  rng = np.random.default_rng([seed, 1])
  positions, serialized, total = reservoir_sample(_records(files), max_images,
                                                  rng)
  return parse(serialized, positions), total


def image_aspect(image_bytes: bytes) -> float:
  """Width / height of an encoded image (reads the header only)."""
  width, height = Image.open(io.BytesIO(image_bytes)).size
  return width / height


def as_jpeg(image_bytes: bytes, quality: int = 95) -> bytes:
  """The bytes unchanged if they are a JPEG, else re-encoded as one.

  The serving preprocessing decodes JPEG only (as CelebA and the serving
  signatures are), so a PNG or other file is converted for the command line.
  """
  if image_bytes[:3] == b'\xff\xd8\xff':
    return image_bytes
  buffer = io.BytesIO()
  Image.open(io.BytesIO(image_bytes)).convert('RGB').save(
      buffer, 'JPEG', quality=quality)
  return buffer.getvalue()
