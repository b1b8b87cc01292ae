"""The Evaluator's progress, logged while TFMA scores the test split.

TFMA runs the whole evaluation as one Beam pipeline and logs nothing between
TFX's "Evaluating model." and "Evaluation complete."; on CelebA's test split
(about 20,000 faces at 224 px, scored by the candidate and by the baseline)
that is many minutes of silence on a CPU, and a working run cannot be told
from a hung one. TFX's Evaluator takes its extractors from a user module
(`module_path`, the function `custom_extractors`): this module is that user
module. It returns TFMA's default extractors with one stage added after the
models' predictions, which passes every batch on unchanged and logs how many
examples have been scored and how fast: that scoring began at the first
batch, then the count at most every `EVERY_SECONDS`, per Beam worker (each
counts the examples it scored). In front of them all it puts the bound on
batch sizes of `evaluation_batches`, which keeps the scoring's memory small.
"""

import time
from typing import Any, Dict, Iterator, List, Optional

from absl import logging
import apache_beam as beam
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.extractors import unbatch_extractor

from components import evaluation_batches

STAGE_NAME = 'LogScoringProgress'
EVERY_SECONDS = 30.0
_clock = time.monotonic  # a test sets the time


class _LogProgress(beam.DoFn):
  """Counts the examples that pass and logs the count now and then."""

  def __init__(self, every_seconds: float):
    self._every = every_seconds
    self._count = 0
    self._started: Optional[float] = None
    self._last_log = 0.0

  def process(self, extracts: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
    now = _clock()
    if self._started is None:
      self._started = self._last_log = now
      logging.info('Evaluator: scoring the test examples')
    self._count += evaluation_batches.batch_size(extracts)
    seconds = now - self._started
    if seconds and now - self._last_log >= self._every:
      self._last_log = now
      logging.info('Evaluator: %d test examples scored in %.0f s, %.1f per '
                   'second', self._count, seconds, self._count / seconds)
    yield extracts


def progress_extractor(every_seconds: Optional[float] = None
                       ) -> tfma.extractors.Extractor:
  """The stage; it logs at most every `every_seconds` (`EVERY_SECONDS`)."""
  return tfma.extractors.Extractor(
      stage_name=STAGE_NAME,
      ptransform=beam.ParDo(_LogProgress(
          EVERY_SECONDS if every_seconds is None else every_seconds)))


def custom_extractors(eval_shared_model: Any,
                      eval_config: tfma.EvalConfig,
                      tensor_adapter_config: Any
                      ) -> List[tfma.extractors.Extractor]:
  """TFMA's default extractors, behind the bound on batch sizes, with the
  progress stage before unbatching (after the predictions, while the
  extracts are still batches)."""
  extractors = tfma.default_extractors(
      eval_shared_model=eval_shared_model, eval_config=eval_config,
      tensor_adapter_config=tensor_adapter_config)
  names = [e.stage_name for e in extractors]
  at = names.index(unbatch_extractor.UNBATCH_EXTRACTOR_STAGE_NAME)
  return ([evaluation_batches.bound_extractor()] + extractors[:at]
          + [progress_extractor()] + extractors[at:])
