"""The Evaluator logs how many test examples it has scored, and changes none."""

import logging

import apache_beam as beam
from apache_beam.testing import util as beam_util
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.extractors import unbatch_extractor

from components import evaluation_batches
from components import evaluation_progress
from tests import beam_pipelines


def test_batches_pass_unchanged_and_the_count_is_logged(caplog, monkeypatch):
  ticks = iter([100.0, 101.0, 102.5])
  monkeypatch.setattr(evaluation_progress, '_clock', lambda: next(ticks))
  batches = [{tfma.constants.INPUT_KEY: [b'a'] * 3},
             {tfma.constants.INPUT_KEY: [b'b'] * 2},
             {tfma.constants.INPUT_KEY: [b'c'] * 5}]
  # absl's logger, whose level other tests (and TensorFlow) may have raised.
  caplog.set_level(logging.INFO, logger='absl')
  with beam_pipelines.local() as p:
    out = (p | beam.Create(batches, reshuffle=False)
           | evaluation_progress.progress_extractor(every_seconds=1.0)
           .ptransform)
    beam_util.assert_that(out, beam_util.equal_to(batches))
  lines = [r.getMessage() for r in caplog.records
           if r.getMessage().startswith('Evaluator: ')]
  assert lines == ['Evaluator: scoring the test examples',
                   'Evaluator: 5 test examples scored in 1 s, 5.0 per second',
                   'Evaluator: 10 test examples scored in 2 s, 4.0 per second']


def test_batches_are_bounded_first_and_counted_before_unbatching():
  # Without a model TFMA takes predictions from the examples; the stage
  # order around unbatching is the same as with one.
  config = tfma.EvalConfig(model_specs=[tfma.ModelSpec(label_key='label')])
  names = [e.stage_name for e in evaluation_progress.custom_extractors(
      eval_shared_model=None, eval_config=config, tensor_adapter_config=None)]
  default = [e.stage_name for e in tfma.default_extractors(eval_config=config)]
  at = default.index(unbatch_extractor.UNBATCH_EXTRACTOR_STAGE_NAME)
  assert names == ([evaluation_batches.STAGE_NAME] + default[:at] +
                   [evaluation_progress.STAGE_NAME] + default[at:])
