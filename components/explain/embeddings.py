"""Embeddings and predictions of a set of faces, from the served model.

One pass of `transform_jpeg` then `predict_pixels` per batch gives both the
pooled features (the latent space the two heads read) and the probabilities,
so the metadata's predictions are by construction those of the vectors shown.
Pixels exist one batch at a time: nothing scales with the set but the vectors
themselves (n x 1280 float32, 100 MB at 20,000 images).
"""

import dataclasses
from typing import Callable, Dict, List, Optional

import numpy as np

from components.contracts import metric_names
from components.explain import examples
from components.explain import served_model
from models import features


@dataclasses.dataclass
class Embedded:
  """Vectors and predictions, row i for face i of the set embedded."""
  vectors: np.ndarray                  # [n, d] float32
  probabilities: Dict[str, np.ndarray]  # output -> [n] float32

  def predicted(self, output: str) -> np.ndarray:
    """0/1 decisions as the Evaluator makes them: above the threshold is 1."""
    return (self.probabilities[output] >
            metric_names.DECISION_THRESHOLD).astype(np.int64)

  def predicted_cohorts(self) -> List[str]:
    return examples.cohorts_of(self.predicted(features.MALE_KEY),
                               self.predicted(features.YOUNG_KEY))

  def misclassified(self, faces: examples.Faces) -> np.ndarray:
    """True where any output with a known label is wrong."""
    wrong = np.zeros(len(faces), bool)
    for output, truth in faces.labels.items():
      if output in self.probabilities:
        wrong |= (truth >= 0) & (self.predicted(output) != truth)
    return wrong


def batch_size_for(image_size: int) -> int:
  """Images per batch: about 128 at 96 px, fewer for larger inputs, so the
  activations stay within a few hundred MB."""
  return int(max(8, min(256, 128 * (96 / image_size) ** 2)))


def embed(model: served_model.ServedModel, faces: examples.Faces,
          batch_size: Optional[int] = None,
          progress: Optional[Callable[[int, int], None]] = None) -> Embedded:
  """Runs the served preprocessing and network over every face."""
  batch_size = batch_size or batch_size_for(model.image_size)
  vectors, probabilities = [], {k: [] for k in model.outputs}
  for start in range(0, len(faces), batch_size):
    pixels = model.pixels(faces.jpegs[start:start + batch_size])
    out = model.predict_pixels(pixels)
    vectors.append(out[model.embedding_key].numpy())
    for k in model.outputs:
      probabilities[k].append(out[k].numpy().reshape(-1))
    if progress:
      progress(min(start + batch_size, len(faces)), len(faces))
  if not vectors:
    raise ValueError('no faces to embed')
  return Embedded(
      vectors=np.concatenate(vectors).astype(np.float32),
      probabilities={k: np.concatenate(v).astype(np.float32)
                     for k, v in probabilities.items()})
