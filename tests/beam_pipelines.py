"""Beam pipelines for tests, on the engine the pipeline's own stages use.

`beam.Pipeline()` with no options is Beam's DirectRunner, which first tries
to download and start its Prism runner (configs.local_beam_args says what
that costs); tests run on the same in-process engine as the pipeline.
"""

import apache_beam as beam
from apache_beam.options import pipeline_options
from tfx.dsl.components.base import base_beam_executor

from pipeline import configs


def options() -> pipeline_options.PipelineOptions:
  return pipeline_options.PipelineOptions(
      configs.local_beam_args(1, setup_file=None))


def local() -> beam.Pipeline:
  """A pipeline to use as `with beam_pipelines.local() as p:`."""
  return beam.Pipeline(options=options())


def executor_context() -> base_beam_executor.BaseBeamExecutor.Context:
  """What a Beam executor is constructed with in a test: the pipeline's
  engine and its package named, as the pipeline passes them (with no
  setup file, TFX builds an sdist of the package for every Beam pipeline)."""
  return base_beam_executor.BaseBeamExecutor.Context(
      beam_pipeline_args=configs.local_beam_args(1))
