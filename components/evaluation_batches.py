"""A bound on how many examples the Evaluator scores at once.

tfx_bsl batches the examples TFMA reads adaptively (up to 1,000 per batch,
aiming at a second of work per batch), and the models score each batch
whole. At 224 px MobileNetV2's activations for a batch of that second's
size were most of the Evaluator's memory: bounding batches at 16 examples
lowered its growth on 2,529 test faces from 1.17 to 0.73 GiB at the same
CPU time (`benchmarks/evaluator_benchmark.py --preset celeba`, this
project's build machine). The bound is a stage in front of TFMA's
extractors that splits a larger batch, in order, into batches of at most
`MAX_BATCH_SIZE` examples.
"""

from typing import Any, Dict, Iterator

import apache_beam as beam
import numpy as np
import pyarrow as pa
import tensorflow_model_analysis as tfma

STAGE_NAME = 'BoundBatchSize'
MAX_BATCH_SIZE = 16


def batch_size(extracts: Dict[str, Any]) -> int:
  """How many examples one (batched) extracts dict holds."""
  batch = extracts.get(tfma.constants.ARROW_RECORD_BATCH_KEY)
  if batch is not None:
    return batch.num_rows
  inputs = extracts.get(tfma.constants.INPUT_KEY)
  # Serialized examples: a numpy array of bytes objects once batched.
  return len(inputs) if isinstance(inputs, (list, np.ndarray)) else 1


def split(extracts: Dict[str, Any],
          max_size: int = MAX_BATCH_SIZE) -> Iterator[Dict[str, Any]]:
  """`extracts` as batches of at most `max_size` examples, in order.

  Every per-example value (an Arrow record batch, or an array or list with
  one entry per example) is sliced; anything else is shared by the pieces.
  """
  rows = batch_size(extracts)
  if rows <= max_size:
    yield extracts
    return
  for start in range(0, rows, max_size):
    piece = {}
    for key, value in extracts.items():
      if isinstance(value, pa.RecordBatch):
        piece[key] = value.slice(start, max_size)
      elif isinstance(value, (np.ndarray, list)) and len(value) == rows:
        piece[key] = value[start:start + max_size]
      else:
        piece[key] = value
    yield piece


def bound_extractor(max_size: int = MAX_BATCH_SIZE
                    ) -> tfma.extractors.Extractor:
  """The stage, for the front of TFMA's extractors."""
  return tfma.extractors.Extractor(
      stage_name=STAGE_NAME, ptransform=beam.FlatMap(split, max_size))
