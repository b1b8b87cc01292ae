"""Beam pipelines for tests, on the engine the pipeline's own stages use.

`beam.Pipeline()` with no options is Beam's DirectRunner, which first tries
to download and start its Prism runner (configs.local_beam_args says what
that costs); tests run on the same in-process engine as the pipeline.
"""

import apache_beam as beam
from apache_beam.options import pipeline_options

from pipeline import configs


def options() -> pipeline_options.PipelineOptions:
  return pipeline_options.PipelineOptions(
      configs.local_beam_args(1, setup_file=None))


def local() -> beam.Pipeline:
  """A pipeline to use as `with beam_pipelines.local() as p:`."""
  return beam.Pipeline(options=options())
