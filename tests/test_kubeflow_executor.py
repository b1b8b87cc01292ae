"""Runs compiled steps the way a KFP/Vertex container would, without a cluster.

For a task of the compiled package this test does the launcher's part: it
builds the ExecutorInput (the task's parameter constants, input artifacts
with the empty type KFP 2.x's driver sends, output artifacts with the types
the package declares, local URIs instead of object storage), puts it where
the container args say `{{$}}`, and runs the container's command and args in
a subprocess with the container's env and nothing else set. What that
proves: the entrypoint (pipeline.kfp_entrypoint restoring the input types,
then TFX's), the executor import paths (including a Python-function
component of this package), the parameter types of schema 2.1.0 and the env
var all work as compiled. The only liberty taken: the schema path inside the
image (/pipeline/...) is pointed at this checkout. tests/test_kfp_e2e.py runs
every task of both packages this way (tests/kfp_emulator.py).
"""

import os

import json
import subprocess
import sys
from typing import Dict, List

import pytest
import yaml
from tensorflow_metadata.proto.v0 import anomalies_pb2

import kubeflow_runner
import schema as schema_package
from components import data_validation_gate
from components.contracts import node_ids

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope='module')
def spec(tmp_path_factory) -> Dict[str, object]:
  out = tmp_path_factory.mktemp('kfp-exec') / 'kfp.yaml'
  assert kubeflow_runner.main([
      '--image', 'img', '--pipeline_root', 'gs://b/root',
      '--data_root', 'gs://b/data', '--output_file', str(out)]) == 0
  with open(out) as f:
    return yaml.safe_load(f)


def _artifact(type_schema: Dict[str, str], uri: str,
              metadata: Dict[str, object] = None) -> Dict[str, object]:
  return {'artifacts': [{'uri': uri, 'type': type_schema,
                         'metadata': metadata or {}}]}


def _launch(spec: Dict[str, object], task_name: str, root: str,
            input_uris: Dict[str, Dict[str, object]],
            parameter_overrides: Dict[str, object] = None
            ) -> subprocess.Popen:
  """Starts the task's container command as KFP would, with local storage."""
  task = spec['root']['dag']['tasks'][task_name]
  component = spec['components'][task['componentRef']['name']]
  container = spec['deploymentSpec']['executors'][
      component['executorLabel']]['container']
  params = {name: p['runtimeValue']['constant']
            for name, p in task.get('inputs', {}).get('parameters', {}).items()}
  params.update(parameter_overrides or {})
  # KFP 2.x rebuilds inputs from its metadata store without their type.
  inputs = {
      name: _artifact({'instanceSchema': ''}, **input_uris[name])
      for name in component.get('inputDefinitions', {}).get(
          'artifacts', {})}
  outputs = {
      name: _artifact(definition['artifactType'],
                      os.path.join(root, task_name, name))
      for name, definition in component.get('outputDefinitions', {}).get(
          'artifacts', {}).items()}
  executor_input = {
      'inputs': {'parameterValues': params, 'artifacts': inputs},
      'outputs': {'artifacts': outputs,
                  'outputFile': os.path.join(root, task_name,
                                             'executor_output.json')}}
  args: List[str] = [json.dumps(executor_input) if a == '{{$}}' else a
                     for a in container['args']]
  env = {e['name']: e['value'] for e in container['env']}
  env.update(PATH=os.environ['PATH'], TF_CPP_MIN_LOG_LEVEL='2')
  command = list(container['command'])
  assert command[0] == 'python'
  command[0] = sys.executable  # the image's `python`
  return subprocess.Popen(command + args, cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, stdin=subprocess.DEVNULL)


@pytest.mark.e2e  # runs a whole program
def test_compiled_steps_run_through_the_tfx_container_entrypoint(
    spec, tmp_path):
  # The curated schema step (ImportSchemaGen), which must succeed.
  schema_step = _launch(
      spec, node_ids.CURATED_SCHEMA, str(tmp_path), {},
      parameter_overrides={'schema_file': schema_package.SCHEMA_FILE})
  # The data gate, a Python-function component of this package, given
  # anomalies: it must fail, naming them.
  anomalies_uri = tmp_path / 'anomalies'
  (anomalies_uri / 'Split-train').mkdir(parents=True)
  anomalies = anomalies_pb2.Anomalies()
  anomalies.anomaly_info['Male'].description = 'values outside {0, 1}'
  (anomalies_uri / 'Split-train' / data_validation_gate.ANOMALIES_FILE
   ).write_bytes(anomalies.SerializeToString())
  gate_step = _launch(
      spec, node_ids.DATA_GATE, str(tmp_path),
      {'anomalies': dict(uri=str(anomalies_uri),
                         metadata={'split_names': '["train"]'})})

  out, err = schema_step.communicate(timeout=600)
  assert schema_step.returncode == 0, err[-4000:]
  assert (tmp_path / node_ids.CURATED_SCHEMA / 'schema' /
          'schema.pbtxt').read_text() == open(schema_package.SCHEMA_FILE).read()
  executor_output = json.loads(
      (tmp_path / node_ids.CURATED_SCHEMA / 'executor_output.json').read_text())
  assert executor_output['artifacts']['schema']['artifacts'][0]['uri'] == str(
      tmp_path / node_ids.CURATED_SCHEMA / 'schema')

  out, err = gate_step.communicate(timeout=600)
  assert gate_step.returncode != 0
  assert 'restored the declared type of input(s) anomalies' in err
  assert 'DataAnomaliesError' in err
  assert "train: feature 'Male': values outside {0, 1}" in err
