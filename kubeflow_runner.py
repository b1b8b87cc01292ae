"""Compiles the pipeline for Kubeflow Pipelines 2.x or Vertex AI Pipelines.

    python kubeflow_runner.py --platform kubeflow \\
        --image registry.example.com/celeba-tfx:0.1.0 \\
        --pipeline_root gs://BUCKET/celeba/root \\
        --data_root gs://BUCKET/celeba/tfrecords

    python kubeflow_runner.py --platform vertex \\
        --image us-docker.pkg.dev/PROJECT/repo/celeba-tfx:0.1.0 \\
        --pipeline_root gs://BUCKET/celeba/root \\
        --data_root gs://BUCKET/celeba/tfrecords \\
        --beam_runner DataflowRunner --project PROJECT --region us-central1 \\
        --trainer_gpus 1 --trainer_accelerator NVIDIA_L4 [--submit]

The same create_pipeline(...) DAG as local_runner.py, compiled with TFX's
KubeflowV2DagRunner. Compiling is offline and writes only --output_file:
the pipeline code is not uploaded; every step runs the package installed in
--image (see Dockerfile), and the Transform and Trainer code is referenced by
import path. The package's format follows --output_file's extension: .yaml is
the PipelineSpec that KFP 2.x uploads (Vertex reads it too), .json the
PipelineJob.

Both platforms get the same package apart from Beam and accelerator
settings. The Evaluator's baseline is the model being served: the newest
version in --serving_dir (or --baseline_dir), found by an ordinary step
(components.baseline), so the regression guard holds on KFP 2.x as on
Vertex. Every step runs pipeline.kfp_entrypoint, which restores the input
artifact types KFP 2.x leaves empty (tensorflow/tfx#7768) before handing
over to TFX's own entrypoint.
Every default lives in pipeline/configs.py; flags only override it.
"""

import argparse
import dataclasses
import logging
import os
import sys
from typing import Dict, List, Optional

# Light imports only, so --help answers at once; TFX is imported to compile.
from components.contracts import local_layout
from components.contracts import node_ids
import models
from pipeline import beam_args
from pipeline import configs
from pipeline import model_flags

KUBEFLOW = 'kubeflow'
VERTEX = 'vertex'
PLATFORMS = (KUBEFLOW, VERTEX)

# Where the Dockerfile puts this repository inside the image (its WORKDIR);
# the compiled package refers to files there.
IMAGE_SOURCE_DIR = '/pipeline'
IMAGE_SCHEMA_FILE = f'{IMAGE_SOURCE_DIR}/schema/schema.pbtxt'
IMAGE_SETUP_FILE = f'{IMAGE_SOURCE_DIR}/setup.py'

# Set in every step's container (and in the image, for anything else): the
# environment the project's packages give TensorFlow locally.
CONTAINER_ENV: Dict[str, str] = dict(models.TENSORFLOW_ENV)

# The container entrypoint of every step (see pipeline/kfp_entrypoint.py).
ENTRYPOINT_MODULE = 'pipeline.kfp_entrypoint'
# What each platform calls a GPU when --trainer_accelerator is not given.
DEFAULT_ACCELERATOR = {KUBEFLOW: 'nvidia.com/gpu', VERTEX: 'NVIDIA_TESLA_T4'}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  where = parser.add_argument_group('where it runs')
  where.add_argument('--platform', choices=PLATFORMS, default=KUBEFLOW,
                     help="'kubeflow' (KFP 2.x) or 'vertex' (Vertex AI "
                          'Pipelines); default %(default)s')
  where.add_argument('--image', required=True,
                     help='the pipeline image (built from Dockerfile) every '
                          'step runs in')
  where.add_argument('--pipeline_root', required=True,
                     help='object storage for every artifact, gs://...; '
                          's3:// (S3/MinIO) compiles but the image needs '
                          'tensorflow-io and apache-beam[aws] to use it. '
                          'Nothing is written there at compile time')
  where.add_argument('--data_root', required=True,
                     help='converted TFRecords (train/, eval/, test/ as '
                          'written by `python -m components.celeba convert`) '
                          'in object storage')
  where.add_argument('--serving_dir',
                     help='where a blessed model is pushed (default '
                          'PIPELINE_ROOT/serving_model)')
  where.add_argument('--baseline_dir',
                     help='the served models the Evaluator compares a new '
                          'model with: a folder of SavedModel versions (the '
                          'newest is the baseline) or one SavedModel '
                          '(default: --serving_dir)')
  where.add_argument('--schema_file', default=IMAGE_SCHEMA_FILE,
                     help='the curated schema as the steps see it (default: '
                          'the copy inside the image, %(default)s)')
  where.add_argument('--output_file',
                     help='the package: .yaml = PipelineSpec (KFP upload), '
                          '.json = PipelineJob (default '
                          'outputs/kubeflow/celeba-attributes-PLATFORM.yaml)')
  where.add_argument('--pipeline_name', default=configs.PIPELINE_NAME,
                     help='[a-z0-9][a-z0-9-]{0,127} (default %(default)s)')

  model_flags.add_model_arguments(
      parser, preset_help='default %(default)s', default_preset='celeba',
      weights_help=("'imagenet' (downloaded by the Trainer step), 'none' or "
                    'a weights file inside the image'),
      strategies=[s for s in configs.DISTRIBUTION_STRATEGIES
                  if s != 'multi_worker'],
      strategy_help=("'mirrored' for several GPUs in the Trainer's node. "
                     "'multi_worker' is not offered: a pipeline step is one "
                     'container and gets no TF_CONFIG'))

  trainer = parser.add_argument_group('Trainer step resources')
  trainer.add_argument('--trainer_gpus', type=int, default=0,
                       help='GPUs for the Trainer step (default %(default)s)')
  trainer.add_argument('--trainer_accelerator',
                       help='GPU type; default nvidia.com/gpu on kubeflow, '
                            'NVIDIA_TESLA_T4 on vertex (e.g. NVIDIA_L4, '
                            'NVIDIA_H100_80GB)')
  trainer.add_argument('--trainer_cpu', type=float,
                       help='vCPUs for the Trainer step; decoding JPEGs '
                            'for a GPU needs several (see README)')
  trainer.add_argument('--trainer_memory_gb', type=float,
                       help='memory for the Trainer step, GB')

  beam = parser.add_argument_group(
      'Beam (ImportExampleGen, StatisticsGen, Transform, Evaluator)')
  beam.add_argument('--beam_runner', choices=beam_args.RUNNERS,
                    default=beam_args.DIRECT,
                    help='default %(default)s, inside each step\'s container')
  beam.add_argument('--direct_num_workers', type=int, default=1,
                    help='DirectRunner worker processes (0: one per CPU)')
  beam.add_argument('--project', help='GCP project (Dataflow, --submit)')
  beam.add_argument('--region', help='GCP region (Dataflow, --submit)')
  beam.add_argument('--temp_location',
                    help='Dataflow temp folder (default '
                         'PIPELINE_ROOT/beam-tmp)')
  beam.add_argument('--flink_master', help='Flink REST endpoint, host:port')
  beam.add_argument('--spark_master_url', help='spark://host:port')
  beam.add_argument('--beam_environment_type',
                    choices=beam_args.ENVIRONMENT_TYPES,
                    help='SDK harness for Flink/Spark')
  beam.add_argument('--beam_environment_config',
                    help='its address (EXTERNAL) or image (DOCKER; default '
                         '--image)')
  beam.add_argument('--beam_arg', action='append', default=[],
                    metavar='--NAME=VALUE',
                    help='any further Beam argument, passed through '
                         '(repeatable), e.g. --beam_arg=--max_num_workers=20')

  run = parser.add_argument_group('execution')
  run.add_argument('--disable_cache', action='store_true',
                   help='re-run every component even if nothing changed')
  run.add_argument('--submit', action='store_true',
                   help='after compiling, start a run on Vertex AI Pipelines '
                        '(needs --platform vertex, --project, --region)')
  run.add_argument('--service_account',
                   help='service account the Vertex run uses')
  args = parser.parse_args(argv)
  if args.submit and (args.platform != VERTEX or not args.project or
                      not args.region):
    parser.error('--submit needs --platform vertex, --project and --region')
  return args


def default_output_file(platform: str) -> str:
  return os.path.join(local_layout.DEFAULT_OUTPUT_ROOT, 'kubeflow',
                      f'{configs.PIPELINE_NAME}-{platform}.yaml')


def make_config(args: argparse.Namespace) -> configs.PipelineConfig:
  """The preset with the flags' overrides."""
  config = configs.for_run(preset=args.preset, explain=not args.no_explain,
                           **model_flags.model_overrides(args))
  from pipeline import kubeflow_spec  # pylint: disable=g-import-not-at-top
  return dataclasses.replace(
      config, name=kubeflow_spec.check_pipeline_name(args.pipeline_name),
      direct_num_workers=args.direct_num_workers)


def make_beam_args(args: argparse.Namespace) -> List[str]:
  pipeline_root = args.pipeline_root.rstrip('/')
  return beam_args.beam_pipeline_args(beam_args.BeamOptions(
      runner=args.beam_runner,
      setup_file=IMAGE_SETUP_FILE,
      worker_image=args.image,
      direct_num_workers=args.direct_num_workers,
      project=args.project, region=args.region,
      temp_location=args.temp_location or f'{pipeline_root}/beam-tmp',
      flink_master=args.flink_master,
      spark_master_url=args.spark_master_url,
      environment_type=args.beam_environment_type,
      environment_config=args.beam_environment_config,
      extra=args.beam_arg))


def compile_package(args: argparse.Namespace) -> Dict[str, object]:
  """Builds the DAG and returns the finished PipelineJob dict (no file I/O)."""
  # pylint: disable=g-import-not-at-top
  from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner
  from pipeline import kubeflow_spec
  from pipeline import pipeline
  # pylint: enable=g-import-not-at-top
  config = make_config(args)
  pipeline_root = args.pipeline_root.rstrip('/')
  dag = pipeline.create_pipeline(
      config,
      data_root=args.data_root,
      pipeline_root=pipeline_root,
      serving_dir=args.serving_dir or f'{pipeline_root}/serving_model',
      baseline_dir=args.baseline_dir,
      schema_file=args.schema_file,
      beam_pipeline_args=make_beam_args(args),
      enable_cache=not args.disable_cache)
  trainer_resources = kubeflow_spec.resource_spec(
      cpu=args.trainer_cpu, memory_gb=args.trainer_memory_gb,
      gpus=args.trainer_gpus,
      accelerator=(args.trainer_accelerator or
                   DEFAULT_ACCELERATOR[args.platform]))
  kubeflow_spec.request_resources(dag, node_ids.TRAINER, trainer_resources)
  runner = kubeflow_v2_dag_runner.KubeflowV2DagRunner(
      config=kubeflow_v2_dag_runner.KubeflowV2DagRunnerConfig(
          default_image=args.image, use_pipeline_spec_2_1=True))
  job = runner.run(dag, write_out=False)
  return kubeflow_spec.finish(job, env=CONTAINER_ENV,
                              pipeline_root=pipeline_root,
                              entrypoint=ENTRYPOINT_MODULE,
                              uncached_tasks=_served_model_tasks(dag))


def _served_model_tasks(dag) -> List[str]:
  """Tasks that read the serving folder, outside what KFP's cache sees."""
  ids = {node.id for node in dag.components}
  return [task for task in (node_ids.SERVED_BASELINE,
                            node_ids.WARM_START_MODEL) if task in ids]


def main(argv: Optional[List[str]] = None) -> int:
  args = parse_args(argv)
  logging.basicConfig(level=logging.INFO, format='%(levelname)s %(message)s')
  output_file = os.path.abspath(args.output_file or
                                default_output_file(args.platform))
  try:
    job = compile_package(args)
    from pipeline import kubeflow_spec  # pylint: disable=g-import-not-at-top
    text = kubeflow_spec.package_text(job, output_file)
  except ValueError as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  os.makedirs(os.path.dirname(output_file), exist_ok=True)
  with open(output_file, 'w') as f:
    f.write(text)
  print(f'Wrote {output_file} ({args.platform}, image {args.image}, '
        f'pipeline root {args.pipeline_root})')
  if args.submit:
    from pipeline import vertex_submit  # pylint: disable=g-import-not-at-top
    vertex_job = vertex_submit.make_job(
        output_file, project=args.project, region=args.region,
        pipeline_root=args.pipeline_root.rstrip('/'))
    vertex_submit.submit(vertex_job, service_account=args.service_account)
    print(f'Submitted {vertex_job.resource_name}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
