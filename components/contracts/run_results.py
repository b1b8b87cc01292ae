"""What a pipeline run did, read back from its MLMD store.

Every TFX orchestrator records each node's execution, its state (complete,
cached, failed, ...) and its input and output artifacts in ML Metadata. Reports,
the local runner's summary and the end-to-end tests all read a run from there
rather than guessing paths under the pipeline root.
"""

import dataclasses
from typing import Any, Dict, List, Optional, Type

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

PIPELINE_CONTEXT = 'pipeline'
RUN_CONTEXT = 'pipeline_run'
NODE_CONTEXT = 'node'

_STATE_NAMES = {v: k for k, v in
                metadata_store_pb2.Execution.State.items()}


@dataclasses.dataclass
class NodeExecution:
  """One node's execution in a run, with its artifacts by input/output key."""
  node_id: str
  state: str  # 'COMPLETE', 'CACHED', 'FAILED', 'RUNNING', ...
  execution: metadata_store_pb2.Execution
  inputs: Dict[str, List[metadata_store_pb2.Artifact]]
  outputs: Dict[str, List[metadata_store_pb2.Artifact]]

  def output_uri(self, key: str) -> str:
    artifacts = self.outputs.get(key)
    if not artifacts:
      raise KeyError(f'{self.node_id} has no output {key!r}')
    return artifacts[-1].uri


@dataclasses.dataclass
class RunResult:
  run_id: str
  nodes: Dict[str, NodeExecution]

  def get(self, node_id: str) -> Optional[NodeExecution]:
    return self.nodes.get(node_id)


def connect(metadata_path: str) -> metadata_store.MetadataStore:
  """Opens the SQLite MLMD store of a local run.

  The connection config is the one tfx.orchestration.metadata builds, made
  here from ml_metadata's own proto: this module imports no TensorFlow, so
  the runner can read a store before paying for it.
  """
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = metadata_path
  config.sqlite.connection_mode = (
      metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE)
  return metadata_store.MetadataStore(config)


def run_ids(store: metadata_store.MetadataStore,
            pipeline_name: str) -> List[str]:
  """Run ids of `pipeline_name`, oldest first."""
  runs = _runs_of(store, pipeline_name)
  return [c.name for c in runs]


def _runs_of(store: metadata_store.MetadataStore, pipeline_name: str
             ) -> List[metadata_store_pb2.Context]:
  pipeline = store.get_context_by_type_and_name(PIPELINE_CONTEXT,
                                                pipeline_name)
  if pipeline is None:
    return []
  pipeline_executions = {
      e.id for e in store.get_executions_by_context(pipeline.id)}
  runs = []
  for context in store.get_contexts_by_type(RUN_CONTEXT):
    executions = store.get_executions_by_context(context.id)
    if any(e.id in pipeline_executions for e in executions):
      runs.append(context)
  return sorted(runs, key=lambda c: (c.create_time_since_epoch, c.id))


def _artifacts_by_key(
    store: metadata_store.MetadataStore, events: List[metadata_store_pb2.Event],
    wanted: set) -> Dict[str, List[metadata_store_pb2.Artifact]]:
  events = [e for e in events if e.type in wanted]
  artifacts = {a.id: a for a in store.get_artifacts_by_id(
      [e.artifact_id for e in events])}
  result: Dict[str, List[metadata_store_pb2.Artifact]] = {}
  for event in events:
    key = event.path.steps[0].key if event.path.steps else ''
    result.setdefault(key, []).append(artifacts[event.artifact_id])
  return result


def load_run(store: metadata_store.MetadataStore, pipeline_name: str,
             run_id: Optional[str] = None) -> RunResult:
  """The nodes of one run (the latest when `run_id` is None)."""
  runs = _runs_of(store, pipeline_name)
  if not runs:
    raise LookupError(f'no runs of pipeline {pipeline_name!r} in this store')
  if run_id is None:
    run = runs[-1]
  else:
    matches = [c for c in runs if c.name == run_id]
    if not matches:
      raise LookupError(f'no run {run_id!r} of pipeline {pipeline_name!r}')
    run = matches[0]
  nodes = {}
  prefix = pipeline_name + '.'
  node_type_id = store.get_context_type(NODE_CONTEXT).id
  for execution in store.get_executions_by_context(run.id):
    node_id = None
    for context in store.get_contexts_by_execution(execution.id):
      if (context.type_id == node_type_id and
          context.name.startswith(prefix)):
        node_id = context.name[len(prefix):]
    if node_id is None:
      continue
    events = store.get_events_by_execution_ids([execution.id])
    nodes[node_id] = NodeExecution(
        node_id=node_id,
        state=_STATE_NAMES.get(execution.last_known_state, 'UNKNOWN'),
        execution=execution,
        inputs=_artifacts_by_key(store, events, {
            metadata_store_pb2.Event.INPUT,
            metadata_store_pb2.Event.DECLARED_INPUT}),
        outputs=_artifacts_by_key(store, events, {
            metadata_store_pb2.Event.OUTPUT,
            metadata_store_pb2.Event.DECLARED_OUTPUT}))
  return RunResult(run_id=run.name, nodes=nodes)


def to_artifact(mlmd_artifact: metadata_store_pb2.Artifact,
                artifact_class: Type[Any]) -> Any:
  """A TFX artifact of `artifact_class` (a tfx.types.Artifact subclass)
  wrapping an MLMD artifact proto."""
  artifact = artifact_class()
  artifact.set_mlmd_artifact(mlmd_artifact)
  return artifact
