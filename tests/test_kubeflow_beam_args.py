"""Beam arguments per runner (pipeline/beam_args.py)."""

import pytest

from pipeline import beam_args
from pipeline import configs

SETUP = '/pipeline/setup.py'


def test_direct_runner_is_the_local_runners_args():
  for workers in (1, 2, 0):
    assert beam_args.beam_pipeline_args(beam_args.BeamOptions(
        direct_num_workers=workers)) == configs.local_beam_args(
            workers, setup_file=None)
    # The image's setup.py, named so TFX builds no sdist of itself per step.
    assert beam_args.beam_pipeline_args(beam_args.BeamOptions(
        direct_num_workers=workers, setup_file=SETUP)) == (
            configs.local_beam_args(workers, setup_file=None) +
            [f'--setup_file={SETUP}'])


def test_dataflow():
  args = beam_args.beam_pipeline_args(beam_args.BeamOptions(
      runner=beam_args.DATAFLOW, setup_file=SETUP, worker_image='reg/img:1',
      project='p', region='europe-west4', temp_location='gs://b/tmp',
      extra=['--machine_type=n2-standard-8', '--max_num_workers=50']))
  assert args == ['--runner=DataflowRunner', '--project=p',
                  '--region=europe-west4', '--temp_location=gs://b/tmp',
                  '--sdk_container_image=reg/img:1',
                  f'--setup_file={SETUP}', '--machine_type=n2-standard-8',
                  '--max_num_workers=50']


def test_flink_and_spark_use_the_portable_harness():
  flink = beam_args.beam_pipeline_args(beam_args.BeamOptions(
      runner=beam_args.FLINK, setup_file=SETUP, flink_master='flink:8081',
      environment_type='EXTERNAL', environment_config='localhost:50000'))
  assert flink == ['--runner=FlinkRunner', '--flink_master=flink:8081',
                   '--environment_type=EXTERNAL',
                   '--environment_config=localhost:50000',
                   f'--setup_file={SETUP}']
  # DOCKER defaults to the pipeline image as the SDK harness.
  spark = beam_args.beam_pipeline_args(beam_args.BeamOptions(
      runner=beam_args.SPARK, setup_file=SETUP,
      worker_image='registry/celeba-tfx:0.1.0',
      spark_master_url='spark://spark:7077', environment_type='DOCKER'))
  assert spark == ['--runner=SparkRunner',
                   '--spark_master_url=spark://spark:7077',
                   '--environment_type=DOCKER',
                   '--environment_config=registry/celeba-tfx:0.1.0',
                   f'--setup_file={SETUP}']


@pytest.mark.parametrize('options,missing', [
    (dict(runner=beam_args.DATAFLOW, setup_file=SETUP, region='r',
          temp_location='gs://b'), '--project'),
    (dict(runner=beam_args.DATAFLOW, setup_file=SETUP, project='p',
          region='r', temp_location='s3://b'), 'gs://'),
    (dict(runner=beam_args.FLINK, setup_file=SETUP), '--flink_master'),
    (dict(runner=beam_args.SPARK, setup_file=SETUP), '--spark_master_url'),
    (dict(runner=beam_args.SPARK, spark_master_url='spark://s:7077'),
     '--setup_file'),
    (dict(runner='Elsewhere'), 'runner must be'),
])
def test_missing_settings_are_named(options, missing):
  with pytest.raises(ValueError, match=missing):
    beam_args.beam_pipeline_args(beam_args.BeamOptions(**options))
