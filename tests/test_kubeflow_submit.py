"""The Vertex AI request `kubeflow_runner.py --submit` builds, checked offline.

google-cloud-aiplatform assembles the CreatePipelineJob request from the
package; here its client is replaced by a recorder, so the request is built by
the real library and checked against the API's own message types
(google.cloud.aiplatform_v1 CreatePipelineJobRequest / PipelineJob), and
nothing leaves the machine.

google-cloud-aiplatform is imported by the `vertex` fixture, not at the top:
it takes seconds to import, which every pytest worker would otherwise pay
collecting this file (kubeflow_runner.py imports it only for --submit too).
"""

import json
import re
import types
from typing import Dict, List

import google.auth
import pytest
from google.auth import credentials as auth_credentials
from google.protobuf import json_format

import kubeflow_runner
from components.contracts import node_ids

ROOT = 'gs://bucket/celeba/root'
PROJECT, REGION = 'my-project', 'europe-west4'


@pytest.fixture(scope='module')
def vertex() -> types.SimpleNamespace:
  """aiplatform_v1 (the API's message types) and pipeline.vertex_submit."""
  # pylint: disable=g-import-not-at-top
  from google.cloud import aiplatform_v1
  from pipeline import vertex_submit
  return types.SimpleNamespace(v1=aiplatform_v1, submit=vertex_submit)


class RecordingClient:
  """Stands in for PipelineServiceClient; records create_pipeline_job calls."""

  def __init__(self, aiplatform_v1):
    self.aiplatform_v1 = aiplatform_v1
    self.calls: List[Dict[str, object]] = []

  def create_pipeline_job(self, *, parent, pipeline_job, pipeline_job_id,
                          timeout=None):
    self.calls.append(dict(parent=parent, pipeline_job=pipeline_job,
                           pipeline_job_id=pipeline_job_id, timeout=timeout))
    created = self.aiplatform_v1.PipelineJob(pipeline_job)
    created.name = f'{parent}/pipelineJobs/{pipeline_job_id}'
    return created


@pytest.fixture(autouse=True)
def offline(monkeypatch, vertex):
  """No bucket creation, no Application Default Credentials lookup."""
  del vertex  # imports google.cloud.aiplatform, whose utils are patched
  # pylint: disable=g-import-not-at-top
  from google.cloud.aiplatform.utils import gcs_utils
  monkeypatch.setattr(
      gcs_utils,
      'create_gcs_bucket_for_pipeline_artifacts_if_it_does_not_exist',
      lambda **kwargs: None)
  monkeypatch.setattr(google.auth, 'default', lambda *a, **k: (
      auth_credentials.AnonymousCredentials(), PROJECT))


@pytest.fixture(scope='module')
def packages(tmp_path_factory) -> Dict[str, str]:
  out = tmp_path_factory.mktemp('vertex')
  paths = {}
  for ext in ('json', 'yaml'):
    paths[ext] = str(out / f'celeba.{ext}')
    assert kubeflow_runner.main([
        '--platform', 'vertex', '--image', 'us-docker.pkg.dev/p/r/celeba:1',
        '--pipeline_root', ROOT, '--data_root', 'gs://bucket/data',
        '--output_file', paths[ext]]) == 0
  return paths


def _submit(vertex, package: str, **kwargs) -> Dict[str, object]:
  job = vertex.submit.make_job(
      package, project=PROJECT, region=REGION, pipeline_root=ROOT,
      credentials=auth_credentials.AnonymousCredentials(), **kwargs)
  client = RecordingClient(vertex.v1)
  job.api_client = client
  vertex.submit.submit(
      job, service_account='runner@my-project.iam.gserviceaccount.com')
  assert len(client.calls) == 1
  return client.calls[0]


@pytest.mark.parametrize('ext', ['json', 'yaml'])
def test_request_matches_the_documented_api(vertex, packages, ext):
  call = _submit(vertex, packages[ext])
  # The documented request message accepts exactly these fields.
  request = vertex.v1.CreatePipelineJobRequest(
      parent=call['parent'], pipeline_job=call['pipeline_job'],
      pipeline_job_id=call['pipeline_job_id'])
  assert request.parent == f'projects/{PROJECT}/locations/{REGION}'
  assert re.fullmatch(r'[a-z][-a-z0-9]{0,127}', request.pipeline_job_id)
  assert request.pipeline_job_id.startswith('celeba-attributes-')
  job = request.pipeline_job
  assert job.display_name == 'celeba-attributes'
  assert job.runtime_config.gcs_output_directory == ROOT
  assert job.service_account == 'runner@my-project.iam.gserviceaccount.com'
  spec = json_format.MessageToDict(vertex.v1.PipelineJob.pb(job))[
      'pipelineSpec']
  assert spec['schemaVersion'] == '2.1.0'
  assert spec['defaultPipelineRoot'] == ROOT
  # What runs is what was compiled: the image and the env of every step.
  containers = [e['container'] for e in spec['deploymentSpec'][
      'executors'].values() if 'container' in e]
  assert containers
  for container in containers:
    assert container['image'] == 'us-docker.pkg.dev/p/r/celeba:1'
    assert {'name': 'TF_USE_LEGACY_KERAS', 'value': '1'} in container['env']
  # The baseline is the served model, found by an ordinary container task;
  # no resolver executors, so the same package shape runs on KFP 2.x.
  assert node_ids.SERVED_BASELINE in spec['root']['dag']['tasks']
  assert not any('resolver' in e for e in spec['deploymentSpec'][
      'executors'].values())


def test_both_package_formats_make_the_same_request(vertex, packages):
  requests = [
      _submit(vertex, packages[ext])['pipeline_job']
      for ext in ('json', 'yaml')
  ]
  specs = [json.dumps(json_format.MessageToDict(
      vertex.v1.PipelineJob.pb(r))['pipelineSpec'], sort_keys=True)
           for r in requests]
  assert specs[0] == specs[1]


def test_vertex_needs_a_gcs_root(vertex, packages):
  with pytest.raises(ValueError, match='gs://'):
    vertex.submit.make_job(packages['json'], project=PROJECT, region=REGION,
                           pipeline_root='s3://bucket/root')


def test_runner_submit_flag_sends_the_package_it_wrote(vertex, tmp_path,
                                                       monkeypatch, capsys):
  client = RecordingClient(vertex.v1)
  real_submit = vertex.submit.submit

  def submit_offline(job, service_account=None):
    job.api_client = client
    real_submit(job, service_account=service_account)

  monkeypatch.setattr(vertex.submit, 'submit', submit_offline)
  package = str(tmp_path / 'p.json')
  assert kubeflow_runner.main([
      '--platform', 'vertex', '--image', 'img', '--pipeline_root', ROOT,
      '--data_root', 'gs://bucket/data', '--output_file', package,
      '--submit', '--project', PROJECT, '--region', REGION,
      '--service_account', 'sa@x']) == 0
  (call,) = client.calls
  assert call['parent'] == f'projects/{PROJECT}/locations/{REGION}'
  assert call['pipeline_job'].service_account == 'sa@x'
  with open(package) as f:
    written = json.load(f)
  assert json_format.MessageToDict(vertex.v1.PipelineJob.pb(
      call['pipeline_job']))['pipelineSpec'] == written['pipelineSpec']
  assert (f'Submitted projects/{PROJECT}/locations/{REGION}/pipelineJobs/'
          'celeba-attributes-') in capsys.readouterr().out
