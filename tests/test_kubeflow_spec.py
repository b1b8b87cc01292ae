"""Unit tests of the package post-processing (pipeline/kubeflow_spec.py)."""

import json

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from pipeline import kubeflow_spec


def _job(env=None, schema_version='2.1.0', name='celeba-attributes'):
  container = {'image': 'img', 'command': ['python'], 'args': []}
  if env is not None:
    container['env'] = env
  return {
      'displayName': name,
      'runtimeConfig': {'gcsOutputDirectory': 'gs://b/root'},
      'pipelineSpec': {
          'pipelineInfo': {'name': name},
          'schemaVersion': schema_version,
          'sdkVersion': 'tfx-1.16.0',
          'root': {'dag': {'tasks': {}}},
          'deploymentSpec': {'executors': {
              'A_executor': {'container': container},
              'B_executor': {'resolver': {'outputArtifactQueries': {}}},
          }},
      },
  }


def test_set_env_adds_to_containers_and_replaces_same_name():
  job = _job(env=[{'name': 'TF_USE_LEGACY_KERAS', 'value': '0'},
                  {'name': 'OTHER', 'value': 'x'}])
  kubeflow_spec.set_env(job['pipelineSpec'], {'TF_USE_LEGACY_KERAS': '1'})
  executors = job['pipelineSpec']['deploymentSpec']['executors']
  assert executors['A_executor']['container']['env'] == [
      {'name': 'OTHER', 'value': 'x'},
      {'name': 'TF_USE_LEGACY_KERAS', 'value': '1'}]
  assert 'env' not in json.dumps(executors['B_executor'])
  # The field exists in kfp-pipeline-spec 0.2.2's PipelineContainerSpec.
  container = json_format.ParseDict(
      executors['A_executor']['container'],
      pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec())
  assert [(e.name, e.value) for e in container.env][-1] == (
      'TF_USE_LEGACY_KERAS', '1')


def test_finish_sets_root_and_env_and_keeps_a_valid_job():
  job = kubeflow_spec.finish(_job(), env={'A': '1'}, pipeline_root='gs://x/y')
  assert job['pipelineSpec']['defaultPipelineRoot'] == 'gs://x/y'
  parsed = json_format.ParseDict(job, pipeline_spec_pb2.PipelineJob())
  assert parsed.pipeline_spec['defaultPipelineRoot'] == 'gs://x/y'


def _tfx_job():
  job = _job()
  spec = job['pipelineSpec']
  spec['deploymentSpec']['executors']['A_executor']['container'][
      'command'] = list(kubeflow_spec.TFX_ENTRYPOINT_COMMAND)
  spec['deploymentSpec']['executors']['C_executor'] = {'container': {
      'image': 'img', 'command': ['python', '-m', 'some.driver'], 'args': []}}
  spec['root']['dag']['tasks'] = {
      'A': {'cachingOptions': {'enableCache': True}},
      'C': {'cachingOptions': {'enableCache': True}}}
  return job


def test_finish_swaps_the_entrypoint_and_disables_the_named_caches():
  job = kubeflow_spec.finish(_tfx_job(), env={}, pipeline_root='gs://x',
                             entrypoint='pipeline.kfp_entrypoint',
                             uncached_tasks=['C'])
  spec = job['pipelineSpec']
  executors = spec['deploymentSpec']['executors']
  assert executors['A_executor']['container']['command'] == [
      'python', '-m', 'pipeline.kfp_entrypoint']
  assert executors['C_executor']['container']['command'] == [
      'python', '-m', 'some.driver']  # not TFX's entrypoint: left alone
  tasks = spec['root']['dag']['tasks']
  assert tasks['A']['cachingOptions'] == {'enableCache': True}
  assert tasks['C']['cachingOptions'] == {}
  parsed = json_format.ParseDict(spec, pipeline_spec_pb2.PipelineSpec())
  assert not parsed.root.dag.tasks['C'].caching_options.enable_cache


def test_finish_refuses_an_entrypoint_nothing_uses_and_unknown_tasks():
  with pytest.raises(ValueError, match='entrypoint'):
    kubeflow_spec.finish(_job(), env={}, pipeline_root='gs://x',
                         entrypoint='pipeline.kfp_entrypoint')
  with pytest.raises(KeyError, match='no task'):
    kubeflow_spec.finish(_tfx_job(), env={}, pipeline_root='gs://x',
                         uncached_tasks=['Missing'])


def test_finish_refuses_schema_2_0_0_which_kfp_rejects():
  with pytest.raises(ValueError, match='2.1.0'):
    kubeflow_spec.finish(_job(schema_version='2.0.0'), env={},
                         pipeline_root='gs://x')


@pytest.mark.parametrize('name,ok', [
    ('celeba-attributes', True), ('a', True), ('0abc', True),
    ('a' * 128, True), ('a' * 129, False), ('Celeba', False),
    ('-celeba', False), ('celeba_x', False), ('celeba.x', False), ('', False)])
def test_pipeline_name_rule(name, ok):
  if ok:
    assert kubeflow_spec.check_pipeline_name(name) == name
  else:
    with pytest.raises(ValueError):
      kubeflow_spec.check_pipeline_name(name)


def test_package_format_follows_the_extension(tmp_path):
  job = kubeflow_spec.finish(_job(), env={}, pipeline_root='gs://x')
  as_json = json.loads(kubeflow_spec.package_text(job, 'p.json'))
  assert as_json == job
  as_yaml = yaml.safe_load(kubeflow_spec.package_text(job, 'p.yaml'))
  assert as_yaml == job['pipelineSpec']
  with pytest.raises(ValueError, match='.json'):
    kubeflow_spec.package_text(job, 'p.txt')
  path = tmp_path / 'p.yml'
  path.write_text(kubeflow_spec.package_text(job, str(path)))
  assert kubeflow_spec.load_pipeline_spec(str(path)).pipeline_info.name == (
      'celeba-attributes')


def test_resource_spec():
  assert kubeflow_spec.resource_spec() is None
  assert kubeflow_spec.resource_spec(gpus=0, accelerator='NVIDIA_L4') is None
  spec = kubeflow_spec.resource_spec(cpu=8, memory_gb=30, gpus=1,
                                     accelerator='NVIDIA_L4')
  assert (spec.cpu_limit, spec.memory_limit) == (8, 30)
  assert (spec.accelerator.type, spec.accelerator.count) == ('NVIDIA_L4', 1)
  with pytest.raises(ValueError):
    kubeflow_spec.resource_spec(gpus=1)
  with pytest.raises(ValueError):
    kubeflow_spec.resource_spec(gpus=-1, accelerator='x')
