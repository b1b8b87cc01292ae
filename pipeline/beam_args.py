"""Beam arguments for the data-heavy components, one builder per runner.

ImportExampleGen, StatisticsGen, Transform and the Evaluator are Beam
pipelines; TFX hands them `beam_pipeline_args`. Which engine runs them is
only a matter of these arguments:

* DirectRunner: this machine; `direct_num_workers` > 1 uses the
  multi-processing direct runner (configs.local_beam_args).
* DataflowRunner: Google Cloud Dataflow; needs a project, a region and a
  gs:// temp location.
* FlinkRunner / SparkRunner: a Flink or Spark cluster through Beam's portable
  runner; the Python code runs in an SDK harness next to the workers
  (`environment_type` EXTERNAL: a worker-pool sidecar, DOCKER: a container
  the worker starts, PROCESS: a boot binary on the worker).

The workers need this package (preprocessing_fn, the model for the
Evaluator) and the same environment as the steps (TF_USE_LEGACY_KERAS=1
before TensorFlow loads a Keras model). Two mechanisms, both on by default:

* `--setup_file`: the package's setup.py where the Beam job is launched
  (inside the pipeline image); Beam builds an sdist and installs it on every
  worker, whatever the worker image.
* the pipeline image as the worker image (`--sdk_container_image` on
  Dataflow, `--environment_config` for DOCKER on Flink/Spark): its entrypoint
  is Beam's SDK boot, it has the whole pinned stack and sets the variable.
  Without it, Dataflow's default worker image would load the Evaluator's
  model without TF_USE_LEGACY_KERAS.
"""

import dataclasses
from typing import List, Optional, Sequence

from pipeline import configs

DIRECT = 'DirectRunner'
DATAFLOW = 'DataflowRunner'
FLINK = 'FlinkRunner'
SPARK = 'SparkRunner'
RUNNERS = (DIRECT, DATAFLOW, FLINK, SPARK)
ENVIRONMENT_TYPES = ('EXTERNAL', 'DOCKER', 'PROCESS', 'LOOPBACK')


@dataclasses.dataclass(frozen=True)
class BeamOptions:
  """What the runner's flags say about Beam.

  Attributes:
    runner: one of RUNNERS.
    setup_file: setup.py of this package where the Beam job is launched;
      None for DirectRunner (the package is already installed there).
    worker_image: the pipeline image, used as the workers' SDK container on
      Dataflow and as the DOCKER environment on Flink/Spark.
    direct_num_workers: DirectRunner worker processes (0 = one per CPU).
    project: GCP project (Dataflow).
    region: GCP region (Dataflow).
    temp_location: gs:// folder for Dataflow's temporary files.
    flink_master: host:port of the Flink JobManager's REST endpoint.
    spark_master_url: spark://host:port of the Spark master.
    environment_type: SDK harness environment for Flink/Spark.
    environment_config: its address (EXTERNAL) or image (DOCKER).
    extra: further arguments passed through unchanged, last, so they can
      override anything above.
  """
  runner: str = DIRECT
  setup_file: Optional[str] = None
  worker_image: Optional[str] = None
  direct_num_workers: int = 1
  project: Optional[str] = None
  region: Optional[str] = None
  temp_location: Optional[str] = None
  flink_master: Optional[str] = None
  spark_master_url: Optional[str] = None
  environment_type: Optional[str] = None
  environment_config: Optional[str] = None
  extra: Sequence[str] = ()


def _require(options: BeamOptions, **fields: Optional[str]) -> None:
  missing = [name for name, value in fields.items() if not value]
  if missing:
    flags = ', '.join(f'--{name}' for name in missing)
    raise ValueError(f'{options.runner} needs {flags}')


def _portable(options: BeamOptions) -> List[str]:
  args = []
  if options.environment_type:
    if options.environment_type not in ENVIRONMENT_TYPES:
      raise ValueError(f'environment_type must be one of {ENVIRONMENT_TYPES}')
    args.append(f'--environment_type={options.environment_type}')
  config = options.environment_config
  if not config and options.environment_type == 'DOCKER':
    config = options.worker_image
  if config:
    args.append(f'--environment_config={config}')
  return args


def beam_pipeline_args(options: BeamOptions) -> List[str]:
  """The Beam arguments TFX passes to every Beam-based component."""
  if options.runner not in RUNNERS:
    raise ValueError(f'runner must be one of {RUNNERS}, got {options.runner!r}')
  if options.runner == DIRECT:
    # Inside the pipeline image, setup.py is in the image, not on this
    # machine: no existence check.
    return configs.local_beam_args(options.direct_num_workers, None) + (
        [f'--setup_file={options.setup_file}'] if options.setup_file else []
    ) + list(options.extra)
  elif options.runner == DATAFLOW:
    _require(options, project=options.project, region=options.region,
             temp_location=options.temp_location)
    if not options.temp_location.startswith('gs://'):
      raise ValueError('DataflowRunner needs a gs:// temp_location, got '
                       f'{options.temp_location!r}')
    args = [f'--runner={DATAFLOW}', f'--project={options.project}',
            f'--region={options.region}',
            f'--temp_location={options.temp_location}']
    if options.worker_image:
      args.append(f'--sdk_container_image={options.worker_image}')
  elif options.runner == FLINK:
    _require(options, flink_master=options.flink_master)
    args = [f'--runner={FLINK}', f'--flink_master={options.flink_master}',
            *_portable(options)]
  else:
    _require(options, spark_master_url=options.spark_master_url)
    args = [f'--runner={SPARK}',
            f'--spark_master_url={options.spark_master_url}',
            *_portable(options)]
  if options.runner != DIRECT:
    _require(options, setup_file=options.setup_file)
    args.append(f'--setup_file={options.setup_file}')
  return args + list(options.extra)
