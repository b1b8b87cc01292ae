"""ServedBaseline: the model being served, as the Evaluator's baseline Model.

Input `model`: the candidate (the Trainer's model in this run), so that a
served copy of the candidate itself is never its own baseline. Without it
(before the Trainer, for a warm start) the newest served version is chosen.
Parameter `source_dir`: where the served versions live (the Pusher's base
directory unless the config names another folder).
Output `baseline_model`: a standard `Model` whose `Format-Serving` folder
holds a copy of the chosen served version, where the Evaluator and TFX's
path_utils look for a model. The copy keeps the evaluation reproducible from
the pipeline root even after the serving folder moves on.

An output artifact always exists on Kubeflow Pipelines, so "nothing served"
cannot be an empty output: the artifact is always written and its custom
property `served` says whether it holds a model (1) or not (0); the other
properties say where it came from. KFP's metadata store hands `served` to the
next task as a double, which `Artifact.get_int_custom_property` reads.

Caching. TFX's cache key is the input artifacts and the parameters; the
serving folder is outside both. Locally, `Driver` (run by the LocalDagRunner
before its cache check) makes the choice and puts it into the `selection`
parameter: a rerun that would pick the same served version hits the cache,
one that would pick another (a model pushed by another run) runs again. The
Kubeflow V2 compiler runs no custom drivers, so there the executor makes the
choice itself; the Kubeflow runner turns caching off for this one task
(pipeline.kubeflow_spec), so KFP and Vertex never reuse a stale baseline.
"""

from typing import Any, Dict, List, Optional

from absl import logging
from tfx import types
from tfx.dsl.components.base import base_component
from tfx.dsl.components.base import base_driver
from tfx.dsl.components.base import base_executor
from tfx.dsl.components.base import executor_spec
from tfx.orchestration import metadata
from tfx.orchestration.portable import base_driver as portable_base_driver
from tfx.orchestration.portable import data_types
from tfx.proto.orchestration import driver_output_pb2
from tfx.types import artifact_utils
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter
from tfx.types.component_spec import ExecutionParameter
from tfx.utils import path_utils

from components.baseline import served

MODEL_KEY = 'model'
SOURCE_KEY = 'source_dir'
SELECTION_KEY = 'selection'
BASELINE_KEY = 'baseline_model'

# Custom properties of the output Model.
SERVED_PROPERTY = 'served'
SOURCE_PROPERTY = 'served_source'
URI_PROPERTY = 'served_uri'
VERSION_PROPERTY = 'served_version'
DIGEST_PROPERTY = 'served_digest'


class ServedBaselineSpec(types.ComponentSpec):
  """ServedBaseline's inputs, parameters and output."""
  PARAMETERS = {
      SOURCE_KEY: ExecutionParameter(type=str),
      # Set by the local driver (the chosen version, as Selection JSON);
      # empty means the executor chooses.
      SELECTION_KEY: ExecutionParameter(type=str, optional=True),
  }
  INPUTS = {MODEL_KEY: ChannelParameter(type=standard_artifacts.Model,
                                         optional=True)}
  OUTPUTS = {BASELINE_KEY: ChannelParameter(type=standard_artifacts.Model)}


def _candidate_dir(input_dict: Dict[str, List[types.Artifact]]
                   ) -> Optional[str]:
  if not input_dict.get(MODEL_KEY):
    return None
  candidate = artifact_utils.get_single_instance(input_dict[MODEL_KEY])
  return path_utils.serving_model_path(
      candidate.uri, path_utils.is_old_model_artifact(candidate))


def mark(baseline: types.Artifact, selection: served.Selection) -> None:
  """Sets the output's custom properties from the selection."""
  chosen = selection.served
  baseline.set_int_custom_property(SERVED_PROPERTY, int(chosen is not None))
  baseline.set_string_custom_property(SOURCE_PROPERTY, selection.source)
  if chosen is not None:
    baseline.set_string_custom_property(URI_PROPERTY, chosen.uri)
    baseline.set_string_custom_property(VERSION_PROPERTY, chosen.version)
    baseline.set_string_custom_property(DIGEST_PROPERTY, chosen.digest)


class Executor(base_executor.BaseExecutor):
  """Copies the chosen served version into the output Model and marks it."""

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    baseline = artifact_utils.get_single_instance(output_dict[BASELINE_KEY])
    chosen_by_driver = exec_properties.get(SELECTION_KEY)
    if chosen_by_driver:
      selection = served.Selection.from_json(chosen_by_driver)
    else:
      selection = served.select(exec_properties[SOURCE_KEY],
                                _candidate_dir(input_dict))
    mark(baseline, selection)
    if selection.served is None:
      logging.info('ServedBaseline: no model other than the candidate is '
                   'served in %s; the Evaluator checks the floors only',
                   selection.source)
      return
    destination = path_utils.serving_model_dir(baseline.uri)
    served.copy_served(selection.served, destination)
    logging.info('ServedBaseline: %s copied to %s', selection.served.uri,
                 destination)


class Driver(base_driver.BaseDriver, portable_base_driver.BaseDriver):
  """Chooses the served version before the LocalDagRunner's cache check.

  Both base classes: TFX's DSL requires a DRIVER_CLASS derived from the
  legacy BaseDriver, and the portable launcher calls `run`.
  """

  def __init__(self, metadata_handle: metadata.Metadata):
    base_driver.BaseDriver.__init__(self, metadata_handle)
    portable_base_driver.BaseDriver.__init__(self, metadata_handle)

  def run(self, execution_info: data_types.ExecutionInfo
          ) -> driver_output_pb2.DriverOutput:
    selection = served.select(execution_info.exec_properties[SOURCE_KEY],
                              _candidate_dir(execution_info.input_dict))
    result = driver_output_pb2.DriverOutput()
    result.exec_properties[SELECTION_KEY].string_value = selection.to_json()
    return result


class ServedBaseline(base_component.BaseComponent):
  """The newest served model other than the candidate, as a Model artifact."""

  SPEC_CLASS = ServedBaselineSpec
  EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)
  DRIVER_CLASS = Driver

  def __init__(self, model: Optional[types.BaseChannel], source_dir: str):
    """Args: the candidate model channel (None: no candidate); the folder of
    served versions."""
    super().__init__(spec=ServedBaselineSpec(
        model=model, source_dir=source_dir,
        baseline_model=types.Channel(type=standard_artifacts.Model)))
