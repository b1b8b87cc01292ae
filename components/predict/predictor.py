"""Runs a pushed model's `serving_jpeg` signature on JPEG files, in batches.

Why it is built this way:
  - The signature is the model's own serving path (the Transform graph's
    decode, resize and scale, then the network), the one TF Serving and
    `saved_model_cli run --signature_def serving_jpeg` run, so the
    probabilities here are theirs; there is no second copy of the
    preprocessing to drift from the model's.
  - Labels use the threshold the Evaluator judged the model at
    (components.contracts.metric_names), compared as TFMA and Keras compare
    it: a probability above it is 1.
  - One bad file must not cost the others their predictions. The signature
    decodes a batch as one op and fails it whole, so a failed batch is
    checked file by file with `tf.io.decode_jpeg`, the op the signature runs,
    and the rest is run again. Checking only after a failure keeps good
    batches at one decode per image; for a large photo the decode is most of
    the cost.
"""

import dataclasses
import re
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from components.celeba import convert
from components.contracts import metric_names
from components.explain import served_model
from components.predict import inputs
from models import features
from models import signatures

DEFAULT_BATCH_SIZE = 32
_JPEG_SOI = b'\xff\xd8\xff'


@dataclasses.dataclass(frozen=True)
class Prediction:
  """The model's answer for one file, or why there is none (`error`)."""
  file: str
  probabilities: Dict[str, float]      # per output; empty when `error` is set
  error: str = ''

  def label(self, output: str) -> Optional[int]:
    """1 above the decision threshold, else 0; None when the file failed."""
    if self.error:
      return None
    return int(self.probabilities[output] > metric_names.DECISION_THRESHOLD)


class Predictor:
  """A SavedModel's `serving_jpeg` signature, loaded once.

  Attributes:
    model_dir: the SavedModel folder that was loaded.
    outputs: the probability outputs, in features.LABEL_KEYS order.
  """

  def __init__(self, model: str):
    self.model_dir = served_model.resolve_model_dir(model)
    # Kept referenced: signatures only live as long as the loaded object.
    self._loaded = tf.saved_model.load(self.model_dir)
    if signatures.SERVING_JPEG not in self._loaded.signatures:
      raise ValueError(
          f'{self.model_dir}: no {signatures.SERVING_JPEG} signature (it has '
          f'{", ".join(sorted(self._loaded.signatures)) or "none"}); it was '
          'not exported by models.signatures.export')
    self._serve = self._loaded.signatures[signatures.SERVING_JPEG]
    (self._input_key,) = self._serve.structured_input_signature[1]
    self.outputs: List[str] = [k for k in features.LABEL_KEYS
                               if k in self._serve.structured_outputs]

  def probabilities(self, jpegs: Sequence[bytes]) -> Dict[str, np.ndarray]:
    """[n] float32 per output; raises tf.errors.InvalidArgumentError if any
    image does not decode."""
    out = self._serve(**{self._input_key: tf.constant(list(jpegs), tf.string)})
    return {k: out[k].numpy().reshape(-1) for k in self.outputs}


def _read(item: inputs.Input) -> Tuple[bytes, str]:
  """The file's bytes, or the problem that rules it out without decoding."""
  if item.problem:
    return b'', item.problem
  try:
    with open(item.path, 'rb') as f:
      data = f.read()
  except OSError as e:
    return b'', f'unreadable: {e.strerror or e}'
  if not data.startswith(_JPEG_SOI):
    return b'', convert.check_jpeg(data)
  return data, ''


def _tf_message(e: tf.errors.OpError) -> str:
  """The last line of TF's message that is not about graph nodes or ops."""
  text = re.sub(r'\[\[.*?\]\]|\{\{.*?\}\}|\[Op:[^\]]*\]', '', str(e.message))
  lines = [
      line.strip()
      for line in text.splitlines()
      if line.strip() and not line.startswith(('Graph execution error',
                                               'Detected at node', '<stack'))
  ]
  return lines[-1] if lines else type(e).__name__


def _predict_batch(predictor: Predictor,
                   batch: Sequence[inputs.Input]) -> List[Prediction]:
  read = [_read(item) for item in batch]
  errors = {k: problem for k, (_, problem) in enumerate(read) if problem}
  found: Dict[int, Dict[str, float]] = {}

  def run(indices: List[int]) -> None:
    if indices:
      out = predictor.probabilities([read[k][0] for k in indices])
      for row, k in enumerate(indices):
        found[k] = {o: float(out[o][row]) for o in predictor.outputs}

  good = [k for k in range(len(batch)) if k not in errors]
  try:
    run(good)
  except tf.errors.InvalidArgumentError:
    for k in good:
      problem = convert.check_jpeg(read[k][0])
      if problem:
        errors[k] = problem
    good = [k for k in good if k not in errors]
    try:
      run(good)
    except tf.errors.InvalidArgumentError:
      # The check passed a file the signature still cannot use: one by one.
      for k in good:
        try:
          run([k])
        except tf.errors.InvalidArgumentError as e:
          errors[k] = f'undecodable: {_tf_message(e)}'
  return [Prediction(item.path, found.get(k, {}), errors.get(k, ''))
          for k, item in enumerate(batch)]


def predict_files(predictor: Predictor, inputs: Sequence[inputs.Input],
                  batch_size: int = DEFAULT_BATCH_SIZE,
                  progress: Optional[Callable[[int], None]] = None
                  ) -> Iterator[Prediction]:
  """One Prediction per input, in order; `progress(n)` after each batch."""
  if batch_size < 1:
    raise ValueError(f'batch_size must be at least 1, got {batch_size}')
  for start in range(0, len(inputs), batch_size):
    batch = inputs[start:start + batch_size]
    yield from _predict_batch(predictor, batch)
    if progress:
      progress(len(batch))
