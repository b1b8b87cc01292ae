"""The KFP v2 package kubeflow_runner.py compiles, checked where KFP reads it.

Both platforms are compiled once per module, through the runner's command
line, offline: KFP 2.x (YAML PipelineSpec, Beam on the DirectRunner with two
workers, pipeline root a local folder that must stay untouched) and Vertex AI
(JSON PipelineJob, Dataflow, a GPU for the Trainer). Every check parses the
written file with kfp-pipeline-spec's protos, the same schema the KFP API
server and Vertex validate against.
"""

import os

import json
import re
from typing import Dict, List, Set

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx.dsl.components.base import base_component
from tfx.utils import import_utils

import kubeflow_runner
from components import evaluation_progress
from components.contracts import local_layout
from pipeline import configs
from pipeline import kubeflow_spec
from pipeline import pipeline
from components.contracts import node_ids

IMAGE = 'registry.example.com/celeba-tfx:test'
DATA_ROOT = 's3://bucket/celeba/tfrecords'
GCS_ROOT = 'gs://bucket/celeba/root'
KFP_DIRECT_ARGS = ['--direct_running_mode=multi_processing',
                   '--direct_num_workers=2',
                   f'--setup_file={kubeflow_runner.IMAGE_SETUP_FILE}']


def _compile(argv: List[str]) -> str:
  assert kubeflow_runner.main(argv) == 0
  return argv[argv.index('--output_file') + 1]


@pytest.fixture(scope='module')
def compiled(tmp_path_factory) -> Dict[str, object]:
  """Compiles both packages once; records what compiling touched."""
  out = tmp_path_factory.mktemp('kfp')
  local_root = out / 'pipeline_root_must_stay_empty'
  resolved = []
  original = base_component._PipDependencyFuture.resolve  # pylint: disable=protected-access

  def spy(self, pipeline_root):
    resolved.append(pipeline_root)
    return original(self, pipeline_root)

  base_component._PipDependencyFuture.resolve = spy  # pylint: disable=protected-access
  try:
    kfp_file = _compile([
        '--platform', 'kubeflow', '--image', IMAGE,
        '--pipeline_root', str(local_root), '--data_root', DATA_ROOT,
        '--direct_num_workers', '2',
        '--output_file', str(out / 'kfp.yaml')])
    vertex_file = _compile([
        '--platform', 'vertex', '--image', IMAGE,
        '--pipeline_root', GCS_ROOT + '/', '--data_root', 'gs://bucket/data',
        '--beam_runner', 'DataflowRunner', '--project', 'proj',
        '--region', 'us-central1',
        '--beam_arg=--max_num_workers=20',
        '--trainer_gpus', '2', '--trainer_accelerator', 'NVIDIA_L4',
        '--trainer_cpu', '16', '--trainer_memory_gb', '64',
        '--distribution_strategy', 'mirrored',
        '--loss', 'cohort_weighted_bce', '--resample', 'oversample',
        '--output_file', str(out / 'vertex.json')])
  finally:
    base_component._PipDependencyFuture.resolve = original  # pylint: disable=protected-access
  with open(vertex_file) as f:
    vertex_job = json.load(f)
  with open(kfp_file) as f:
    kfp_spec = yaml.safe_load(f)
  return dict(out=out, local_root=local_root, resolved=resolved,
              kfp_file=kfp_file, vertex_file=vertex_file,
              kfp=kfp_spec, vertex_job=vertex_job,
              vertex=vertex_job['pipelineSpec'])


@pytest.fixture(params=['kfp', 'vertex'])
def spec(request, compiled) -> Dict[str, object]:
  return compiled[request.param]


def _local_dag():
  """The DAG local_runner.py builds, with its default configuration."""
  paths = local_layout.local_paths('/tmp/unused-output-root')
  return pipeline.create_pipeline(
      configs.for_run(), data_root='/tmp/unused-data',
      pipeline_root=paths.pipeline_root, serving_dir=paths.serving_dir,
      beam_pipeline_args=configs.local_beam_args(1))


def _task_dependencies(task: Dict[str, object]) -> Set[str]:
  """Upstream tasks of a KFP task: explicit ones and artifact producers."""
  deps = set(task.get('dependentTasks', []))
  for artifact in task.get('inputs', {}).get('artifacts', {}).values():
    deps.add(artifact['taskOutputArtifact']['producerTask'])
  return deps


# ------------------------------------------------------------ the package


def test_packages_parse_as_pipeline_spec_and_job(compiled):
  kfp = json_format.ParseDict(compiled['kfp'], pipeline_spec_pb2.PipelineSpec())
  job = json_format.ParseDict(compiled['vertex_job'],
                              pipeline_spec_pb2.PipelineJob())
  vertex = json_format.ParseDict(compiled['vertex'],
                                 pipeline_spec_pb2.PipelineSpec())
  for parsed in (kfp, vertex):
    assert parsed.schema_version == '2.1.0'  # all KFP 2.x accepts
    assert parsed.sdk_version == 'tfx-1.16.0'
    assert parsed.root.dag.tasks
  assert job.pipeline_spec['pipelineInfo']['name'] == configs.PIPELINE_NAME
  # The YAML is the bare PipelineSpec KFP uploads, not the PipelineJob wrapper
  # its API server does not recognize.
  assert 'pipelineSpec' not in compiled['kfp']
  assert kubeflow_spec.load_pipeline_spec(compiled['kfp_file']) == kfp
  assert kubeflow_spec.load_pipeline_spec(compiled['vertex_file']) == vertex


def test_name_satisfies_kfp_rule(spec):
  name = spec['pipelineInfo']['name']
  assert re.fullmatch(r'[a-z0-9][a-z0-9-]{0,127}', name)
  assert name == configs.PIPELINE_NAME


@pytest.mark.parametrize('name', ['CelebA', '-celeba', 'celeba_attrs',
                                  'x' * 129, ''])
def test_bad_pipeline_names_are_refused(tmp_path, name, capsys):
  code = kubeflow_runner.main([
      '--image', IMAGE, '--pipeline_root', 'gs://b/r', '--data_root',
      'gs://b/d', f'--pipeline_name={name}', '--output_file',
      str(tmp_path / 'p.yaml')
  ])
  assert code == 2
  assert 'pipeline name' in capsys.readouterr().err
  assert not os.listdir(tmp_path)


def test_both_have_every_node_of_the_local_dag_with_its_dependencies(spec):
  tasks = spec['root']['dag']['tasks']
  local = {c.id: c for c in _local_dag().components}
  assert set(tasks) == set(local)
  for node_id, node in local.items():
    assert _task_dependencies(tasks[node_id]) == {
        n.id for n in node.upstream_nodes}, node_id
  # The baseline is an ordinary task between the Trainer and the Evaluator.
  assert _task_dependencies(tasks[node_ids.SERVED_BASELINE]) == {
      node_ids.TRAINER}
  assert _task_dependencies(tasks[node_ids.EVALUATOR]) == {
      node_ids.EXAMPLE_GEN, node_ids.TRAINER, node_ids.SERVED_BASELINE}


def test_packages_have_only_executors_kfp_runs(spec):
  """KFP 2.x's backend runs container and importer executors, not resolvers."""
  for label, executor in spec['deploymentSpec']['executors'].items():
    assert set(executor) <= {'container', 'importer'}, label


def test_the_served_baseline_alone_is_never_cached(spec):
  """It reads the serving folder, which KFP's cache key does not cover."""
  for name, task in spec['root']['dag']['tasks'].items():
    expected = name != node_ids.SERVED_BASELINE
    assert task.get('cachingOptions', {}).get('enableCache', False) == (
        expected), name


def test_every_executor_uses_the_image_and_the_package_entrypoint(spec):
  """pipeline.kfp_entrypoint restores KFP 2.x's empty input types, then runs
  TFX's entrypoint with the args TFX compiled for it."""
  executors = spec['deploymentSpec']['executors']
  containers = kubeflow_spec.container_executors(spec)
  assert set(executors) == set(containers)
  assert len(containers) >= 10
  for label, container in containers.items():
    assert container['image'] == IMAGE, label
    assert container['command'] == [
        'python', '-m', kubeflow_runner.ENTRYPOINT_MODULE], label
    assert container['args'][2:4] == ['--json_serialized_invocation_args',
                                      '{{$}}'], label
    assert container['args'][4] == '--json_serialized_inputs_spec_args', label


def test_every_container_sets_the_legacy_keras_variable(spec):
  for label, container in kubeflow_spec.container_executors(spec).items():
    assert {'name': 'TF_USE_LEGACY_KERAS', 'value': '1'} in container['env'], (
        label)


def test_beam_args_reach_every_container(compiled):
  """TFX appends the Beam args to each executor's args; Beam components read
  them as beam_pipeline_args (kubeflow_v2_run_executor's unknown flags)."""
  for label, container in kubeflow_spec.container_executors(
      compiled['kfp']).items():
    assert container['args'][-3:] == KFP_DIRECT_ARGS, label
  example_gen = compiled['kfp']['deploymentSpec']['executors'][
      f'{node_ids.EXAMPLE_GEN}_executor']['container']
  # ImportExampleGen's driver runs as a pre-cache-check hook with the same args.
  assert example_gen['lifecycle']['preCacheCheck']['args'][-3:] == (
      KFP_DIRECT_ARGS)
  dataflow = [
      '--runner=DataflowRunner', '--project=proj', '--region=us-central1',
      f'--temp_location={GCS_ROOT}/beam-tmp',
      f'--sdk_container_image={IMAGE}',
      f'--setup_file={kubeflow_runner.IMAGE_SETUP_FILE}',
      '--max_num_workers=20']
  for label, container in kubeflow_spec.container_executors(
      compiled['vertex']).items():
    assert container['args'][-len(dataflow):] == dataflow, label


def test_pipeline_root_is_where_kfp_and_vertex_read_it(compiled):
  assert compiled['kfp']['defaultPipelineRoot'] == str(compiled['local_root'])
  assert compiled['vertex']['defaultPipelineRoot'] == GCS_ROOT
  assert compiled['vertex_job']['runtimeConfig']['gcsOutputDirectory'] == (
      GCS_ROOT)


def test_serving_dir_and_data_root_default_under_the_right_roots(compiled):
  tasks = compiled['vertex']['root']['dag']['tasks']
  pusher = tasks[node_ids.PUSHER]['inputs']['parameters']
  destination = json.loads(
      pusher['push_destination']['runtimeValue']['constant'])
  assert destination['filesystem']['base_directory'] == (
      f'{GCS_ROOT}/serving_model')
  example_gen = tasks[node_ids.EXAMPLE_GEN]['inputs']['parameters']
  assert example_gen['input_base']['runtimeValue']['constant'] == (
      'gs://bucket/data')


def test_schema_is_read_from_inside_the_image(spec):
  params = spec['root']['dag']['tasks'][node_ids.CURATED_SCHEMA]['inputs'][
      'parameters']
  assert params['schema_file']['runtimeValue']['constant'] == (
      kubeflow_runner.IMAGE_SCHEMA_FILE)


def test_compiling_wrote_nothing_but_the_package(compiled):
  assert not compiled['local_root'].exists()
  assert compiled['resolved'] == []  # no module file turned into a wheel
  assert sorted(os.listdir(compiled['out'])) == ['kfp.yaml', 'vertex.json']


def test_code_is_referenced_by_import_path_not_uploaded(spec):
  tasks = spec['root']['dag']['tasks']

  def constant(task, name):
    return tasks[task]['inputs']['parameters'][name]['runtimeValue'][
        'constant']

  assert constant(node_ids.TRANSFORM, 'preprocessing_fn') == (
      pipeline.PREPROCESSING_FN)
  assert constant(node_ids.TRAINER, 'run_fn') == pipeline.RUN_FN
  # The Evaluator's user module is an import path too (no '@wheel' suffix),
  # and no other task has one.
  with_module = {name: constant(name, 'module_path') for name, task
                 in tasks.items()
                 if 'module_path' in task['inputs'].get('parameters', {})}
  assert with_module == {node_ids.EVALUATOR: evaluation_progress.__name__}
  text = json.dumps(spec)
  assert 'module_file' not in text
  assert '.whl' not in text


def test_trainer_alone_requests_the_gpu(compiled):
  for name in ('kfp', 'vertex'):
    for label, container in kubeflow_spec.container_executors(
        compiled[name]).items():
      if label != f'{node_ids.TRAINER}_executor':
        assert 'resources' not in container, (name, label)
  assert 'resources' not in kubeflow_spec.container_executors(compiled['kfp'])[
      f'{node_ids.TRAINER}_executor']
  resources = json_format.ParseDict(
      kubeflow_spec.container_executors(compiled['vertex'])[
          f'{node_ids.TRAINER}_executor']['resources'],
      kubeflow_spec.ResourceSpec())
  assert resources.accelerator.type == 'NVIDIA_L4'
  assert resources.accelerator.count == 2
  assert resources.cpu_limit == 16
  assert resources.memory_limit == 64


def test_trainer_gets_the_distribution_strategy(compiled):
  params = compiled['vertex']['root']['dag']['tasks'][node_ids.TRAINER][
      'inputs']['parameters']
  custom = json.loads(params['custom_config']['runtimeValue']['constant'])
  from models import model as model_module  # pylint: disable=g-import-not-at-top
  assert custom[model_module.MODEL_CONFIG_KEY]['distribution_strategy'] == (
      'mirrored')
  assert custom[model_module.MODEL_CONFIG_KEY]['loss'] == 'cohort_weighted_bce'
  assert custom[model_module.MODEL_CONFIG_KEY]['resample'] == 'oversample'
  assert node_ids.WARM_START_MODEL not in compiled['vertex']['root']['dag'][
      'tasks']
  # The celeba preset is the default for a cluster run.
  assert custom[model_module.MODEL_CONFIG_KEY]['image_size'] == 224


def test_a_warm_start_compiles_its_served_model_as_an_uncached_task(
    tmp_path):
  """The serving folder is outside KFP's cache key, as for the baseline."""
  path = _compile([
      '--platform', 'kubeflow', '--image', IMAGE, '--pipeline_root',
      str(tmp_path / 'root'), '--data_root', DATA_ROOT, '--warm_start',
      '--output_file', str(tmp_path / 'kfp.yaml')])
  with open(path) as f:
    tasks = yaml.safe_load(f)['root']['dag']['tasks']
  assert tasks[node_ids.WARM_START_MODEL]['cachingOptions'] == {}
  assert tasks[node_ids.SERVED_BASELINE]['cachingOptions'] == {}
  trainer_inputs = tasks[node_ids.TRAINER]['inputs']['artifacts']
  assert trainer_inputs['base_model']['taskOutputArtifact'][
      'producerTask'] == node_ids.WARM_START_MODEL


def test_multi_worker_is_refused_with_a_reason(capsys):
  with pytest.raises(SystemExit):
    kubeflow_runner.parse_args([
        '--image', IMAGE, '--pipeline_root', 'gs://b/r', '--data_root',
        'gs://b/d', '--distribution_strategy', 'multi_worker'
    ])
  assert 'multi_worker' in capsys.readouterr().err


def test_custom_artifact_types_resolve_to_their_classes(spec):
  """The container entrypoint imports a custom type from its schema title."""
  titles = set()
  for component in spec['components'].values():
    for io in ('inputDefinitions', 'outputDefinitions'):
      for artifact in component.get(io, {}).get('artifacts', {}).values():
        schema = yaml.safe_load(artifact['artifactType']['instanceSchema'])
        titles.add(schema['title'])
  custom = {t for t in titles if not t.startswith('tfx.')}
  assert 'components.DataReport' in custom
  for title in custom:
    assert import_utils.import_class_by_path(title).TYPE_NAME == title


def test_submit_needs_vertex_project_and_region():
  for extra in (['--platform', 'kubeflow', '--project', 'p', '--region', 'r'],
                ['--platform', 'vertex', '--region', 'r']):
    with pytest.raises(SystemExit):
      kubeflow_runner.parse_args(['--image', IMAGE, '--pipeline_root', 'gs://b',
                                  '--data_root', 'gs://d', '--submit', *extra])
