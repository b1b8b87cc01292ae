"""Finding a run's artifacts in an MLMD store, for `compare`.

A run is named the way a user thinks of it: a run id as the console printed
it ('Run 2026-...'), a relative index (-1 the latest run that evaluated a
model, -2 the one before), or the path of an Evaluator output folder. Every
other artifact the report needs (statistics, the Trainer's model_run, the
Pusher's record, an explanation) is then found through the same run in MLMD,
so a comparison carries the same context as the in-pipeline report.
"""

import dataclasses
import os
from typing import List, Optional, Tuple

from ml_metadata import metadata_store
from tfx import types
from tfx.types import standard_artifacts

from components.celeba import local_data
from components.contracts import run_results
from components.contracts import node_ids
from components.contracts import push_record

METADATA_FILE = 'metadata.sqlite'


@dataclasses.dataclass
class RunArtifacts:
  """What one run recorded that a report reads."""
  pipeline_name: str
  run_id: str
  evaluation_uri: str
  statistics: Optional[types.Artifact] = None
  model_run_uri: str = ''
  push: Optional[push_record.PushRecord] = None
  explanation_uri: str = ''
  generated_data: bool = False


def find_metadata(path: str) -> Optional[str]:
  """The metadata.sqlite of the pipeline root above `path`, if any."""
  current = os.path.abspath(path)
  while True:
    candidate = os.path.join(current, METADATA_FILE)
    if os.path.isfile(candidate):
      return candidate
    parent = os.path.dirname(current)
    if parent == current:
      return None
    current = parent


def pipeline_names(store: metadata_store.MetadataStore) -> List[str]:
  return sorted(c.name for c in store.get_contexts_by_type(
      run_results.PIPELINE_CONTEXT))


def default_pipeline_name(store: metadata_store.MetadataStore,
                          preferred: Optional[str] = None) -> str:
  """`preferred` if given, else the store's only pipeline."""
  if preferred:
    return preferred
  names = pipeline_names(store)
  if len(names) != 1:
    raise LookupError('the store holds the runs of '
                      f'{len(names)} pipelines ({", ".join(names) or "none"});'
                      ' name one with --pipeline_name')
  return names[0]


def evaluated_run_ids(store: metadata_store.MetadataStore,
                      pipeline_name: str) -> List[str]:
  """Runs, oldest first, whose Evaluator produced (or reused) an evaluation."""
  result = []
  for run_id in run_results.run_ids(store, pipeline_name):
    run = run_results.load_run(store, pipeline_name, run_id)
    node = run.get(node_ids.EVALUATOR)
    if node is not None and node.outputs.get('evaluation'):
      result.append(run_id)
  return result


def resolve_run_id(store: metadata_store.MetadataStore, pipeline_name: str,
                   ref: str) -> str:
  """A run id from a run id or a negative index over evaluated runs."""
  runs = evaluated_run_ids(store, pipeline_name)
  if ref.lstrip('-').isdigit() and ref.startswith('-'):
    index = int(ref)
    if -index > len(runs):
      raise LookupError(f'run {ref}: the store has only {len(runs)} '
                        f'evaluated runs of {pipeline_name!r}')
    return runs[index]
  if ref in runs:
    return ref
  raise LookupError(f'no evaluated run {ref!r} of {pipeline_name!r}; '
                    f'runs: {", ".join(runs) or "none"}')


def run_of_evaluation(store: metadata_store.MetadataStore,
                      evaluation_uri: str) -> Optional[Tuple[str, str]]:
  """(pipeline name, run id) of the run that produced `evaluation_uri`."""
  wanted = os.path.normpath(os.path.abspath(evaluation_uri))
  artifacts = [a for a in store.get_artifacts_by_uri(wanted)]
  if not artifacts:
    return None
  events = store.get_events_by_artifact_ids([a.id for a in artifacts])
  execution_ids = sorted({e.execution_id for e in events})
  run_type = store.get_context_type(run_results.RUN_CONTEXT)
  pipeline_type = store.get_context_type(run_results.PIPELINE_CONTEXT)
  for execution_id in execution_ids:  # the producing run comes first
    contexts = store.get_contexts_by_execution(execution_id)
    runs = [c.name for c in contexts if c.type_id == run_type.id]
    pipelines = [c.name for c in contexts if c.type_id == pipeline_type.id]
    if runs and pipelines:
      return pipelines[0], runs[0]
  return None


def _first_output(node: Optional[run_results.NodeExecution], key: str):
  if node is None:
    return None
  artifacts = node.outputs.get(key)
  if not artifacts and node.outputs and key == '*':
    artifacts = next(iter(node.outputs.values()))
  return artifacts[-1] if artifacts else None


def run_artifacts(store: metadata_store.MetadataStore, pipeline_name: str,
                  run_id: str) -> RunArtifacts:
  """The artifacts of one run that the report reads."""
  run = run_results.load_run(store, pipeline_name, run_id)
  evaluation = _first_output(run.get(node_ids.EVALUATOR), 'evaluation')
  if evaluation is None:
    raise LookupError(f'run {run_id} has no Evaluator output')
  result = RunArtifacts(pipeline_name=pipeline_name, run_id=run.run_id,
                        evaluation_uri=evaluation.uri)
  statistics = _first_output(run.get(node_ids.STATISTICS_GEN), 'statistics')
  if statistics is not None:
    result.statistics = run_results.to_artifact(statistics,
                                  standard_artifacts.ExampleStatistics)
  model_run = _first_output(run.get(node_ids.TRAINER), 'model_run')
  if model_run is not None:
    result.model_run_uri = model_run.uri
  pushed = _first_output(run.get(node_ids.PUSHER), 'pushed_model')
  if pushed is not None:
    result.push = push_record.read(pushed)
  explainer = run.get(node_ids.EXPLAINER)
  explanation = (_first_output(explainer, 'explanation') or
                 _first_output(explainer, '*'))
  if explanation is not None:
    result.explanation_uri = explanation.uri
  example_gen = run.get(node_ids.EXAMPLE_GEN)
  if example_gen is not None and 'input_base' in (
      example_gen.execution.custom_properties):
    input_base = example_gen.execution.custom_properties[
        'input_base'].string_value
    try:
      result.generated_data = local_data.is_generated(input_base)
    except Exception:  # pylint: disable=broad-except
      result.generated_data = False  # e.g. a remote data root
  return result


def for_evaluation_path(evaluation_uri: str,
                        metadata_path: Optional[str] = None
                        ) -> RunArtifacts:
  """A run's artifacts from its Evaluator folder; MLMD context if found."""
  if not os.path.isdir(evaluation_uri):
    raise FileNotFoundError(f'no Evaluator output folder {evaluation_uri!r}')
  metadata_path = metadata_path or find_metadata(evaluation_uri)
  if metadata_path:
    store = run_results.connect(metadata_path)
    found = run_of_evaluation(store, evaluation_uri)
    if found is not None:
      result = run_artifacts(store, *found)
      result.evaluation_uri = os.path.abspath(evaluation_uri)
      return result
  return RunArtifacts(pipeline_name='', run_id='',
                      evaluation_uri=os.path.abspath(evaluation_uri))


def is_evaluation_path(ref: str) -> bool:
  """Whether `ref` names an Evaluator output folder (vs a run id/index)."""
  return os.path.isdir(ref) and any(
      name.startswith('metrics') or name == 'eval_config.json'
      for name in os.listdir(ref))
