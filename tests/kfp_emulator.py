"""Executes a compiled KFP package here, task by task, the way KFP runs it.

What a KFP 2.x deployment does for each task, and what this module does in
its place (the open-source backend's driver and launcher, Vertex AI's
service):

* Order: a task starts when every task it depends on has succeeded
  (`dependentTasks` and the producers of its input artifacts). Independent
  tasks run at the same time, up to `workers` at once, the ones with the
  most work behind them first.
* ExecutorInput: the task's parameter constants (and the component's
  declared defaults), its input artifacts as the metadata store returns
  them, and an output artifact per declared output with a URI under the
  pipeline root. Flavors differ where the backends do:

  - `kubeflow` (KFP OSS 2.x): each input artifact's type is
    `{"instanceSchema": ""}` and its name the store's numeric id; its
    metadata is what the executor wrote to executor_output.json after a trip
    through MLMD: numbers as doubles, booleans as numbers, a list wrapped as
    {"list": [...]}, a struct as {"struct": {...}}, plus the launcher's
    `display_name` and `store_session_info`. Output URIs are
    ROOT/PIPELINE/RUN/TASK/OUTPUT, the executor output file is
    /tmp/kfp_outputs/output_metadata.json inside the task's own container.
    Lifecycle hooks are not run (the backend has none).
  - `vertex` (Vertex AI Pipelines): inputs keep the types the package
    declares, names are Vertex resource names, metadata is a Struct (numbers
    are doubles, lists and structs stay as they are); a task's
    `lifecycle.preCacheCheck` hook (ImportExampleGen's driver) runs before
    the cache check and its updated parameters are part of the cache key.
* Cache: a task with `cachingOptions.enableCache` whose key (input artifact
  names, parameter values, output types, image, command and args) matches an
  earlier successful execution in the same store is not run; its outputs are
  reused, as KFP does across runs of a deployment.
* The container: its `command` and `args` (the `{{$}}` placeholder replaced
  by the ExecutorInput JSON), its `env`, and what an image provides besides:
  PATH (the interpreter running this module stands in for the image's
  `python`) and HOME. Nothing else from the calling process. The working
  directory is the image's WORKDIR. Given `containers`
  (tests/container_forks.py), a `python -m` container is a fork of a
  process that imported TensorFlow, Beam and TFMA once under the same env,
  which saves every step five seconds of imports; otherwise each is a
  fresh interpreter.

Paths inside the image: a package refers to files under /pipeline (the
Dockerfile's WORKDIR, e.g. the curated schema). Every string starting with
one of `path_map`'s keys, in parameter constants and container args, is
rewritten to the mapped folder (this checkout); `RunResult.mapped` lists
what was rewritten. The container's /tmp is a folder of its own per task.
"""

import concurrent.futures
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import yaml

from tests import container_forks

KUBEFLOW = 'kubeflow'
VERTEX = 'vertex'
FLAVORS = (KUBEFLOW, VERTEX)

PLACEHOLDER = '{{$}}'
# Where KFP OSS's driver tells every executor to write its output
# (component.OutputMetadataFilepath in kubeflow/pipelines).
KFP_OUTPUT_FILE = '/tmp/kfp_outputs/output_metadata.json'
VERTEX_RESOURCE = 'projects/123/locations/local/metadataStores/default/artifacts/'

COMPLETE = 'COMPLETE'
CACHED = 'CACHED'
FAILED = 'FAILED'
NOT_RUN = 'NOT_RUN'


def load_package(path: str) -> Dict[str, Any]:
  """The PipelineSpec of a package file (.yaml PipelineSpec or .json job)."""
  with open(path) as f:
    data = yaml.safe_load(f)
  return data.get('pipelineSpec', data)


# ------------------------------------------------- the metadata store's trip


def _to_stored(value: Any) -> Tuple[str, Any]:
  """A metadata value as KFP OSS stores it in MLMD (StructValueToMLMDValue)."""
  if isinstance(value, bool):
    return 'int', int(value)
  if isinstance(value, (int, float)):
    return 'double', float(value)
  if isinstance(value, str):
    return 'string', value
  if isinstance(value, list):
    return 'struct', {'list': value}
  if isinstance(value, dict):
    return 'struct', {'struct': value}
  raise TypeError(f'metadata value {value!r} cannot be stored')


def _from_stored(kind: str, value: Any) -> Any:
  """A stored value as KFP OSS hands it back (toRuntimeArtifact)."""
  if kind in ('int', 'double'):
    return float(value)
  return value


def _numbers_as_doubles(value: Any) -> Any:
  """A Struct's numbers are doubles, whatever the JSON spelled."""
  if isinstance(value, bool):
    return value
  if isinstance(value, (int, float)):
    return float(value)
  if isinstance(value, list):
    return [_numbers_as_doubles(v) for v in value]
  if isinstance(value, dict):
    return {k: _numbers_as_doubles(v) for k, v in value.items()}
  return value


@dataclasses.dataclass
class StoredArtifact:
  id: int
  uri: str
  schema: Dict[str, Any]  # the producer's declared artifactType
  output_name: str
  metadata: Dict[str, Any]  # as the executor wrote it
  stored: Dict[str, Tuple[str, Any]]  # kubeflow: as MLMD keeps it


@dataclasses.dataclass
class Execution:
  task: str
  run_id: str
  fingerprint: str
  outputs: Dict[str, int]
  state: str


class Store:
  """What a KFP deployment keeps between runs: artifacts and executions."""

  def __init__(self):
    self.artifacts: Dict[int, StoredArtifact] = {}
    self.executions: List[Execution] = []
    self._lock = threading.Lock()

  def add_artifact(self, uri: str, schema: Dict[str, Any], output_name: str,
                   metadata: Dict[str, Any]) -> int:
    with self._lock:
      artifact_id = len(self.artifacts) + 1
      stored = {k: _to_stored(v) for k, v in metadata.items()}
      stored['display_name'] = ('string', output_name)
      stored['store_session_info'] = ('string', json.dumps(
          {'Provider': 'local', 'Params': {}}))
      self.artifacts[artifact_id] = StoredArtifact(
          id=artifact_id, uri=uri, schema=schema, output_name=output_name,
          metadata=metadata, stored=stored)
      return artifact_id

  def add_execution(self, execution: Execution) -> None:
    with self._lock:
      self.executions.append(execution)

  def cached(self, fingerprint: str) -> Optional[Execution]:
    with self._lock:
      for execution in reversed(self.executions):
        if (execution.fingerprint == fingerprint and
            execution.state == COMPLETE):
          return execution
    return None


# ------------------------------------------------------------- the results


@dataclasses.dataclass
class TaskResult:
  """One task of one execution of the package."""
  name: str
  state: str
  seconds: float = 0.0  # in the container(s), not waiting for a slot
  returncode: Optional[int] = None
  log_path: str = ''
  outputs: Dict[str, int] = dataclasses.field(default_factory=dict)
  executor_input: Dict[str, Any] = dataclasses.field(default_factory=dict)

  def log_tail(self, chars: int = 6000) -> str:
    if not self.log_path or not os.path.exists(self.log_path):
      return ''
    with open(self.log_path, errors='replace') as f:
      return f.read()[-chars:]


@dataclasses.dataclass
class RunResult:
  """Every task of one execution, with the store to read artifacts from."""
  run_id: str
  flavor: str
  tasks: Dict[str, TaskResult]
  store: Store
  seconds: float
  mapped: List[Tuple[str, str]]

  @property
  def succeeded(self) -> bool:
    return all(t.state in (COMPLETE, CACHED) for t in self.tasks.values())

  def failures(self) -> str:
    parts = []
    for task in self.tasks.values():
      if task.state == FAILED:
        parts.append(f'--- {task.name} failed ({task.returncode}); '
                     f'{task.log_path}:\n{task.log_tail()}')
    not_run = [t.name for t in self.tasks.values() if t.state == NOT_RUN]
    if not_run:
      parts.append(f'not run: {", ".join(sorted(not_run))}')
    return '\n'.join(parts)

  def artifact(self, task: str, output: str) -> StoredArtifact:
    return self.store.artifacts[self.tasks[task].outputs[output]]

  def uri(self, task: str, output: str) -> str:
    return self.artifact(task, output).uri

  def metadata(self, task: str, output: str) -> Dict[str, Any]:
    """An output's metadata as the next task would receive it."""
    return _input_metadata(self.artifact(task, output), self.flavor)

  def timings(self) -> List[Tuple[str, str, float]]:
    """(task, state, seconds in the container) per task, as decided."""
    return [(t.name, t.state, t.seconds) for t in self.tasks.values()]


def _input_metadata(artifact: StoredArtifact, flavor: str) -> Dict[str, Any]:
  if flavor == KUBEFLOW:
    return {k: _from_stored(kind, v)
            for k, (kind, v) in artifact.stored.items()}
  return _numbers_as_doubles(artifact.metadata)


# --------------------------------------------------------------- the runner


class Emulator:
  """Runs a PipelineSpec's tasks as KFP's driver and launcher would."""

  def __init__(self, pipeline_spec: Mapping[str, Any], *, flavor: str,
               path_map: Mapping[str, str], work_dir: str,
               store: Optional[Store] = None, workers: int = 2,
               slots: Optional[threading.Semaphore] = None,
               cwd: Optional[str] = None, task_timeout: int = 1800,
               containers: Optional[container_forks.ForkedContainers] = None):
    """An emulated deployment of one package.

    Args:
      pipeline_spec: the compiled PipelineSpec (see load_package).
      flavor: KUBEFLOW or VERTEX: whose driver and launcher to imitate.
      path_map: image path prefix -> local folder (see the module doc).
      work_dir: per-task folders (container /tmp, HOME, logs).
      store: the deployment's store; pass the same one to later executions
        so that KFP's cache sees earlier runs.
      workers: tasks of this package running at once.
      slots: shared by several emulators, caps the containers running at
        once across them.
      cwd: the image's WORKDIR (here the checkout it is mapped to).
      task_timeout: seconds before a container is killed.
      containers: when given, a `python -m` container is a fork of its
        preloaded server (tests/container_forks.py) instead of a fresh
        interpreter; share one between emulators.
    """
    if flavor not in FLAVORS:
      raise ValueError(f'flavor must be one of {FLAVORS}, got {flavor!r}')
    self.spec = pipeline_spec
    self.flavor = flavor
    self.path_map = dict(path_map)
    self.work_dir = work_dir
    self.store = store or Store()
    self.workers = workers
    self.slots = slots or threading.Semaphore(workers)
    self.cwd = cwd
    self.task_timeout = task_timeout
    self.containers = containers
    self.root = pipeline_spec['defaultPipelineRoot'].rstrip('/')
    self.pipeline_name = pipeline_spec['pipelineInfo']['name']
    self.tasks = pipeline_spec['root']['dag']['tasks']
    self._mapped: List[Tuple[str, str]] = []
    self._lock = threading.Lock()
    self._check_supported()

  # -- the package

  def _check_supported(self) -> None:
    for name, task in self.tasks.items():
      for param in task.get('inputs', {}).get('parameters', {}).values():
        if 'runtimeValue' not in param:
          raise NotImplementedError(f'{name}: only constant parameters')
      for artifact in task.get('inputs', {}).get('artifacts', {}).values():
        if 'taskOutputArtifact' not in artifact:
          raise NotImplementedError(f'{name}: only task output artifacts')
      if 'container' not in self._executor(name):
        raise NotImplementedError(f'{name}: not a container executor')

  def _component(self, task_name: str) -> Dict[str, Any]:
    return self.spec['components'][
        self.tasks[task_name]['componentRef']['name']]

  def _executor(self, task_name: str) -> Dict[str, Any]:
    label = self._component(task_name)['executorLabel']
    return self.spec['deploymentSpec']['executors'][label]

  def dependencies(self, task_name: str) -> List[str]:
    task = self.tasks[task_name]
    deps = set(task.get('dependentTasks', []))
    for artifact in task.get('inputs', {}).get('artifacts', {}).values():
      deps.add(artifact['taskOutputArtifact']['producerTask'])
    return sorted(deps)

  def _descendants(self) -> Dict[str, int]:
    children = {name: set() for name in self.tasks}
    for name in self.tasks:
      for dep in self.dependencies(name):
        children[dep].add(name)
    memo: Dict[str, set] = {}

    def below(name):
      if name not in memo:
        memo[name] = set(children[name])
        for child in children[name]:
          memo[name] |= below(child)
      return memo[name]

    return {name: len(below(name)) for name in self.tasks}

  def _map_path(self, value: str) -> str:
    for image_path, local_path in self.path_map.items():
      if value.startswith(image_path):
        mapped = local_path + value[len(image_path):]
        with self._lock:
          if (value, mapped) not in self._mapped:
            self._mapped.append((value, mapped))
        return mapped
    return value

  def _map_in(self, value: str) -> str:
    """Maps image paths inside a string (an arg like --setup_file=/pipeline/x)."""
    if '=' in value and value.startswith('--'):
      flag, rest = value.split('=', 1)
      return f'{flag}={self._map_path(rest)}'
    return self._map_path(value)

  # -- ExecutorInput

  def _input_artifact(self, artifact: StoredArtifact,
                      declared: Dict[str, Any]) -> Dict[str, Any]:
    if self.flavor == KUBEFLOW:
      return {'name': str(artifact.id), 'uri': artifact.uri,
              'type': {'instanceSchema': ''},
              'metadata': _input_metadata(artifact, self.flavor)}
    return {'name': f'{VERTEX_RESOURCE}{artifact.id}', 'uri': artifact.uri,
            'type': declared,
            'metadata': _input_metadata(artifact, self.flavor)}

  def _task_dir(self, run_id: str, task_name: str) -> str:
    return os.path.join(self.work_dir, run_id, task_name)

  def _output_uri(self, run_id: str, task_name: str, output: str) -> str:
    if self.flavor == KUBEFLOW:
      return f'{self.root}/{self.pipeline_name}/{run_id}/{task_name}/{output}'
    return f'{self.root}/123/{run_id}/{task_name}_{_short(task_name)}/{output}'

  def _output_file(self, run_id: str, task_name: str) -> str:
    if self.flavor == KUBEFLOW:
      # The container's own /tmp.
      return os.path.join(self._task_dir(run_id, task_name), 'tmp',
                          os.path.relpath(KFP_OUTPUT_FILE, '/tmp'))
    return (f'{self.root}/123/{run_id}/{task_name}_{_short(task_name)}/'
            'executor_output.json')

  def executor_input(self, run_id: str, task_name: str,
                     produced: Mapping[str, Dict[str, int]]
                     ) -> Dict[str, Any]:
    """The ExecutorInput KFP builds for this task (before any hook)."""
    task = self.tasks[task_name]
    component = self._component(task_name)
    definitions = component.get('inputDefinitions', {})
    params = {}
    for name, definition in definitions.get('parameters', {}).items():
      if 'defaultValue' in definition:
        params[name] = definition['defaultValue']
    for name, param in task.get('inputs', {}).get('parameters', {}).items():
      value = param['runtimeValue']['constant']
      params[name] = self._map_path(value) if isinstance(value, str) else value
    artifacts = {}
    for name, source in task.get('inputs', {}).get('artifacts', {}).items():
      output = source['taskOutputArtifact']
      artifact_id = produced[output['producerTask']][output['outputArtifactKey']]
      declared = definitions['artifacts'][name]['artifactType']
      artifacts[name] = {'artifacts': [self._input_artifact(
          self.store.artifacts[artifact_id], declared)]}
    outputs = {}
    for name, definition in component.get('outputDefinitions', {}).get(
        'artifacts', {}).items():
      outputs[name] = {'artifacts': [{
          'uri': self._output_uri(run_id, task_name, name),
          'type': definition['artifactType'],
          'metadata': definition.get('metadata', {})}]}
    output_parameters = {
        name: {'outputFile': os.path.join(
            self._task_dir(run_id, task_name), 'tmp', 'kfp', 'outputs', name)}
        for name in component.get('outputDefinitions', {}).get(
            'parameters', {})}
    result = {'inputs': {'parameterValues': params, 'artifacts': artifacts},
              'outputs': {'artifacts': outputs,
                          'outputFile': self._output_file(run_id, task_name)}}
    if output_parameters:
      result['outputs']['parameters'] = output_parameters
    return result

  def fingerprint(self, task_name: str, executor_input: Dict[str, Any]
                  ) -> str:
    """KFP's cache key: inputs by name, output specs without URIs, the
    container's image, command and args."""
    container = self._executor(task_name)['container']
    inputs = executor_input['inputs']
    key = {
        'inputArtifactNames': {
            name: [a['name'] for a in artifacts['artifacts']]
            for name, artifacts in inputs['artifacts'].items()},
        'inputParameterValues': inputs['parameterValues'],
        'outputArtifactsSpec': {
            name: [{'type': a['type'], 'metadata': a['metadata']}
                   for a in artifacts['artifacts']]
            for name, artifacts in executor_input['outputs'][
                'artifacts'].items()},
        'containerSpec': {'image': container['image'],
                          'cmdArgs': container['command'] +
                                     container['args']},
    }
    return hashlib.sha256(
        json.dumps(key, sort_keys=True).encode()).hexdigest()

  # -- running one container

  def _environment(self, container: Mapping[str, Any], task_dir: str
                   ) -> Dict[str, str]:
    home = os.path.join(task_dir, 'home')
    os.makedirs(home, exist_ok=True)
    env = {'PATH': os.pathsep.join([os.path.dirname(sys.executable),
                                    '/usr/local/bin', '/usr/bin', '/bin']),
           'HOME': home, 'TMPDIR': os.path.join(task_dir, 'tmp')}
    env.update({e['name']: e['value'] for e in container.get('env', [])})
    return env

  def _command(self, command: Sequence[str], args: Sequence[str],
               executor_input: Dict[str, Any]) -> List[str]:
    text = json.dumps(executor_input)
    full = []
    for part in list(command) + list(args):
      if '{{$' in part and part != PLACEHOLDER:
        raise NotImplementedError(f'placeholder in {part[:80]!r}')
      full.append(text if part == PLACEHOLDER else self._map_in(part))
    if full[0] == 'python':
      full[0] = sys.executable  # the image's `python`
    return full

  def _run_container(self, command: List[str], env: Dict[str, str],
                     log_path: str) -> Tuple[int, float]:
    """Runs one container; returns its exit code and its seconds."""
    with self.slots, open(log_path, 'a') as log:
      log.write(f'$ {" ".join(c[:200] for c in command)}\n')
      log.flush()
      started = time.monotonic()
      if self.containers and self.containers.module_of(command):
        code = self.containers.run(command, env, self.cwd or os.getcwd(),
                                   log_path, self.task_timeout)
        return code, time.monotonic() - started
      proc = subprocess.run(command, cwd=self.cwd, env=env, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            timeout=self.task_timeout, check=False)
      return proc.returncode, time.monotonic() - started

  def _read_executor_output(self, path: str) -> Dict[str, Any]:
    if not os.path.exists(path):
      return {}
    with open(path) as f:
      return json.load(f)

  def run_task(self, run_id: str, task_name: str,
               produced: Mapping[str, Dict[str, int]]) -> TaskResult:
    """Driver, cache check, launcher and publisher for one task."""
    seconds = 0.0
    task_dir = self._task_dir(run_id, task_name)
    os.makedirs(os.path.join(task_dir, 'tmp'), exist_ok=True)
    log_path = os.path.join(task_dir, 'log.txt')
    executor = self._executor(task_name)
    container = executor['container']
    executor_input = self.executor_input(run_id, task_name, produced)
    env = self._environment(container, task_dir)
    output_file = executor_input['outputs']['outputFile']
    os.makedirs(os.path.dirname(output_file), exist_ok=True)

    hook = container.get('lifecycle', {}).get('preCacheCheck')
    if hook and self.flavor == VERTEX:
      code, seconds = self._run_container(
          self._command(hook['command'], hook['args'], executor_input), env,
          log_path)
      if code:
        return TaskResult(task_name, FAILED, seconds, code, log_path,
                          executor_input=executor_input)
      updated = self._read_executor_output(output_file)
      executor_input['inputs']['parameterValues'].update(
          updated.get('parameterValues', {}))

    fingerprint = self.fingerprint(task_name, executor_input)
    caching = self.tasks[task_name].get('cachingOptions', {}).get(
        'enableCache', False)
    if caching:
      hit = self.store.cached(fingerprint)
      if hit is not None:
        self.store.add_execution(Execution(task_name, run_id, fingerprint,
                                           hit.outputs, CACHED))
        return TaskResult(task_name, CACHED, seconds, 0, log_path,
                          dict(hit.outputs), executor_input)

    code, ran = self._run_container(
        self._command(container['command'], container['args'],
                      executor_input), env, log_path)
    seconds += ran
    if code:
      self.store.add_execution(Execution(task_name, run_id, fingerprint, {},
                                         FAILED))
      return TaskResult(task_name, FAILED, seconds, code, log_path,
                        executor_input=executor_input)
    written = self._read_executor_output(output_file).get('artifacts', {})
    outputs = {}
    component = self._component(task_name)
    for name, artifacts in executor_input['outputs']['artifacts'].items():
      artifact = dict(artifacts['artifacts'][0])
      merged = dict(artifact.get('metadata') or {})
      if written.get(name, {}).get('artifacts'):
        update = written[name]['artifacts'][0]
        if update.get('uri'):
          artifact['uri'] = update['uri']
        merged.update(update.get('metadata') or {})
      outputs[name] = self.store.add_artifact(
          artifact['uri'],
          component['outputDefinitions']['artifacts'][name]['artifactType'],
          name, merged)
    self.store.add_execution(Execution(task_name, run_id, fingerprint,
                                       outputs, COMPLETE))
    return TaskResult(task_name, COMPLETE, seconds, 0, log_path, outputs,
                      executor_input)

  # -- the DAG

  def run(self, run_id: str) -> RunResult:
    """Runs every task in dependency order; a failure stops what depends
    on it. Returns when nothing more can run."""
    started = time.monotonic()
    weight = self._descendants()
    results: Dict[str, TaskResult] = {}
    produced: Dict[str, Dict[str, int]] = {}
    pending = set(self.tasks)
    running: Dict[concurrent.futures.Future, str] = {}
    with concurrent.futures.ThreadPoolExecutor(self.workers) as pool:
      while pending or running:
        done_ok = {n for n, r in results.items()
                   if r.state in (COMPLETE, CACHED)}
        blocked = {n for n, r in results.items()
                   if r.state in (FAILED, NOT_RUN)}
        for name in sorted(pending):
          if blocked & set(self.dependencies(name)):
            results[name] = TaskResult(name, NOT_RUN)
            pending.discard(name)
        ready = sorted((n for n in pending
                        if set(self.dependencies(n)) <= done_ok),
                       key=lambda n: (-weight[n], n))
        for name in ready[:max(0, self.workers - len(running))]:
          pending.discard(name)
          running[pool.submit(self.run_task, run_id, name,
                              dict(produced))] = name
        if not running:
          for name in sorted(pending):
            results[name] = TaskResult(name, NOT_RUN)
          break
        finished, _ = concurrent.futures.wait(
            running, return_when=concurrent.futures.FIRST_COMPLETED)
        for future in finished:
          name = running.pop(future)
          result = future.result()
          results[name] = result
          # One line per task as it ends, so a partial run still shows times.
          print(f'[{self.flavor} {run_id}] {name}: {result.state} '
                f'{result.seconds:.1f} s', flush=True)
          if result.state in (COMPLETE, CACHED):
            produced[name] = result.outputs
    return RunResult(run_id=run_id, flavor=self.flavor, tasks=results,
                     store=self.store, seconds=time.monotonic() - started,
                     mapped=list(self._mapped))


def _short(task_name: str) -> str:
  return hashlib.sha256(task_name.encode()).hexdigest()[:8]
