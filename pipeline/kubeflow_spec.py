"""Shapes the KFP v2 package TFX compiles: what KubeflowV2DagRunner leaves out.

TFX 1.16's KubeflowV2DagRunner compiles the DAG into a PipelineJob (a
PipelineSpec plus runtime config). Five things the package needs have no
runner option, so they are applied here, on the compiled dict, in small
functions the tests check one by one:

* environment variables in every container executor
  (`PipelineDeploymentConfig.PipelineContainerSpec.env`, a field of
  kfp-pipeline-spec 0.2.2 that KFP 2.x and Vertex AI pass to the container;
  TFX's compiler never fills it). Every step needs TF_USE_LEGACY_KERAS=1.
* the container entrypoint: every executor that runs TFX's V2 entrypoint
  runs pipeline.kfp_entrypoint instead, with the same args. KFP 2.x hands a
  task its inputs with empty artifact types, which TFX's entrypoint cannot
  read (tensorflow/tfx#7768); that module restores them first.
* no cache for the tasks whose result depends on something outside their
  inputs: the served baseline (components.baseline) reads the serving
  folder, which KFP's cache key (input artifacts, parameters, command) does
  not cover, so a cached result could be a model no longer served.
* `defaultPipelineRoot` in the PipelineSpec. TFX puts the root only in the
  PipelineJob's runtimeConfig.gcsOutputDirectory, which is lost when the bare
  PipelineSpec is uploaded to KFP.
* the file format each platform reads. KFP 2.x uploads a bare PipelineSpec
  (YAML or JSON) with schemaVersion 2.1.0 and rejects the PipelineJob wrapper
  (its API server only recognizes a document with top-level pipelineInfo and
  root); Vertex AI takes either.

One thing is applied before compiling, on the DAG: a container resource
request (CPU, memory, GPU) for one node, which TFX's compiler reads from the
component's platform_config.
"""

import json
import os
import re
from typing import Any, Dict, Mapping, Optional, Sequence

import yaml
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx.orchestration import pipeline as tfx_pipeline

from google.protobuf import json_format

from pipeline import kfp_entrypoint

ResourceSpec = (
    pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec
    .ResourceSpec)

# KFP's rule for a pipeline name (TFX's KubeflowV2 compiler checks the same).
PIPELINE_NAME_RE = re.compile(r'[a-z0-9][a-z0-9-]{0,127}')
# The schema version KFP 2.x's API server accepts (TFX writes it when
# use_pipeline_spec_2_1=True; the default 2.0.0 is rejected on upload).
SCHEMA_VERSION = '2.1.0'

# The command TFX compiles into every executor (ImportExampleGen's driver
# hook has its own).
TFX_ENTRYPOINT_COMMAND = ['python', '-m', kfp_entrypoint.TFX_ENTRYPOINT]

JSON_FORMATS = ('.json',)
YAML_FORMATS = ('.yaml', '.yml')


def check_pipeline_name(name: str) -> str:
  """Returns `name` if KFP accepts it as a pipeline name, else raises."""
  if not PIPELINE_NAME_RE.fullmatch(name):
    raise ValueError(
        f'pipeline name {name!r} must match {PIPELINE_NAME_RE.pattern} '
        '(lower-case letters, digits and dashes, at most 128 characters)')
  return name


def resource_spec(cpu: Optional[float] = None,
                  memory_gb: Optional[float] = None,
                  gpus: int = 0,
                  accelerator: Optional[str] = None) -> Optional[ResourceSpec]:
  """A container resource request, or None when nothing is requested.

  Args:
    cpu: vCPU limit.
    memory_gb: memory limit in GB.
    gpus: number of accelerators.
    accelerator: accelerator type as the platform names it: on Vertex AI e.g.
      'NVIDIA_TESLA_T4', 'NVIDIA_L4', 'NVIDIA_H100_80GB'; on KFP 2.x the
      Kubernetes resource, e.g. 'nvidia.com/gpu'.
  """
  if gpus < 0:
    raise ValueError('gpus must be >= 0')
  if gpus and not accelerator:
    raise ValueError('a GPU request needs an accelerator type')
  if not (cpu or memory_gb or gpus):
    return None
  spec = ResourceSpec()
  if cpu:
    spec.cpu_limit = cpu
  if memory_gb:
    spec.memory_limit = memory_gb
  if gpus:
    spec.accelerator.type = accelerator
    spec.accelerator.count = gpus
  return spec


def request_resources(dag: tfx_pipeline.Pipeline, node_id: str,
                      spec: Optional[ResourceSpec]
                      ) -> tfx_pipeline.Pipeline:
  """Sets `spec` as the platform config of the node called `node_id`.

  Done by the Kubeflow runner on the finished DAG, so create_pipeline stays
  free of orchestrator protos (LocalDagRunner would ignore them anyway).
  """
  nodes = {c.id: c for c in dag.components}
  if node_id not in nodes:
    raise KeyError(f'no node {node_id!r} in the pipeline; have {sorted(nodes)}')
  if spec is not None:
    nodes[node_id].with_platform_config(spec)
  return dag


def container_executors(pipeline_spec: Dict[str, Any]) -> Dict[str, Any]:
  """The container specs of the PipelineSpec's executors, by executor label."""
  executors = pipeline_spec['deploymentSpec']['executors']
  return {label: executor['container']
          for label, executor in executors.items() if 'container' in executor}


def set_env(pipeline_spec: Dict[str, Any], env: Mapping[str, str]) -> None:
  """Sets `env` in every container executor (replacing same-named entries)."""
  for container in container_executors(pipeline_spec).values():
    kept = [e for e in container.get('env', []) if e['name'] not in env]
    container['env'] = kept + [{'name': k, 'value': str(v)}
                               for k, v in sorted(env.items())]


def use_entrypoint(pipeline_spec: Dict[str, Any], module: str) -> int:
  """Runs `python -m module` instead of TFX's V2 entrypoint, same args.

  Returns:
    How many executors were changed.
  """
  changed = 0
  for container in container_executors(pipeline_spec).values():
    if container.get('command') == TFX_ENTRYPOINT_COMMAND:
      container['command'] = ['python', '-m', module]
      changed += 1
  return changed


def disable_cache(pipeline_spec: Dict[str, Any],
                  task_names: Sequence[str]) -> None:
  """Turns KFP's cache off for the named tasks of the root DAG.

  An empty `cachingOptions` is how the KFP SDK writes a task whose caching
  is off.

  Raises:
    KeyError: a task name is not in the DAG.
  """
  tasks = pipeline_spec['root']['dag']['tasks']
  for name in task_names:
    if name not in tasks:
      raise KeyError(f'no task {name!r} in the package; have {sorted(tasks)}')
    tasks[name]['cachingOptions'] = {}


def set_default_pipeline_root(pipeline_spec: Dict[str, Any],
                              pipeline_root: str) -> None:
  pipeline_spec['defaultPipelineRoot'] = pipeline_root


def finish(pipeline_job: Dict[str, Any], *, env: Mapping[str, str],
           pipeline_root: str, entrypoint: Optional[str] = None,
           uncached_tasks: Sequence[str] = ()) -> Dict[str, Any]:
  """Applies the post-processing to a compiled PipelineJob dict and checks it.

  Args:
    pipeline_job: the dict KubeflowV2DagRunner.run(write_out=False) returns.
    env: environment variables for every container.
    pipeline_root: the default pipeline root of the PipelineSpec.
    entrypoint: a module to run instead of TFX's V2 entrypoint (see
      use_entrypoint); None keeps TFX's.
    uncached_tasks: tasks KFP must never serve from its cache.

  Returns the same dict, which still parses as a PipelineJob.
  """
  spec = pipeline_job['pipelineSpec']
  check_pipeline_name(spec['pipelineInfo']['name'])
  if spec.get('schemaVersion') != SCHEMA_VERSION:
    raise ValueError(f'schemaVersion {spec.get("schemaVersion")!r}: KFP 2.x '
                     f'needs {SCHEMA_VERSION} (use_pipeline_spec_2_1=True)')
  set_env(spec, env)
  if entrypoint and not use_entrypoint(spec, entrypoint):
    raise ValueError('no executor runs TFX\'s V2 entrypoint '
                     f'{TFX_ENTRYPOINT_COMMAND}; cannot use {entrypoint}')
  disable_cache(spec, uncached_tasks)
  set_default_pipeline_root(spec, pipeline_root)
  # Fail here, not on upload, if the result is not a valid PipelineJob.
  json_format.ParseDict(pipeline_job, pipeline_spec_pb2.PipelineJob())
  return pipeline_job


def package_text(pipeline_job: Dict[str, Any], path: str) -> str:
  """The package as written to `path`: its extension picks the format.

  .json: the PipelineJob (Vertex AI's request shape; TFX's own format).
  .yaml/.yml: the bare PipelineSpec, the document KFP 2.x uploads (Vertex AI
  reads it too).
  """
  ext = os.path.splitext(path)[1].lower()
  if ext in JSON_FORMATS:
    return json.dumps(pipeline_job, indent=2, sort_keys=True) + '\n'
  if ext in YAML_FORMATS:
    return yaml.safe_dump(pipeline_job['pipelineSpec'], sort_keys=True)
  raise ValueError(f'{path}: the package must end in .json (PipelineJob) or '
                   '.yaml/.yml (PipelineSpec)')


def load_pipeline_spec(path: str) -> pipeline_spec_pb2.PipelineSpec:
  """Reads either package format back as a PipelineSpec proto."""
  with open(path) as f:
    data = yaml.safe_load(f)  # JSON is YAML.
  if 'pipelineSpec' in data:
    data = data['pipelineSpec']
  return json_format.ParseDict(data, pipeline_spec_pb2.PipelineSpec())
