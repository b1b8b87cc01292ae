"""TFX's Evaluator, told apart a served baseline from an empty one.

ServedBaseline always outputs a Model (on Kubeflow Pipelines an output
artifact always exists); when nothing other than the candidate is served,
that Model is empty and marked `served=0`. TFX's evaluator executor decides
whether there is a baseline from `input_dict.get('baseline_model')`, so this
executor leaves such an input out before handing over to it: TFMA then
checks the absolute floors only, as TFX does without a baseline. Whatever it
decides is written to the evaluation folder (components.contracts.baseline_record), so
the report can say what the candidate was compared with.

A Model marked as served that holds no SavedModel is an error, not a missing
baseline: dropping it silently would turn the regression guard off.
"""

from typing import Any, Dict, List, Tuple

from absl import logging
from tfx import types
from tfx.components.evaluator import component as evaluator_component
from tfx.components.evaluator import executor as evaluator_executor
from tfx.dsl.components.base import executor_spec
from tfx.types import artifact_utils
from tfx.types import standard_component_specs
from tfx.utils import path_utils

from components.baseline import component as baseline_component
from components.baseline import served
from components.contracts import baseline_record as record_lib

BASELINE_KEY = standard_component_specs.BASELINE_MODEL_KEY


def judge_baseline(baselines: List[types.Artifact]
                   ) -> Tuple[bool, record_lib.BaselineRecord]:
  """Whether to compare with `baselines` (0 or 1 Model), and the record.

  Raises:
    ValueError: a baseline marked as served holds no SavedModel.
  """
  if not baselines:
    return False, record_lib.BaselineRecord(
        used=False, note='no baseline model was wired to the Evaluator')
  (baseline,) = baselines
  source = baseline.get_string_custom_property(
      baseline_component.SOURCE_PROPERTY)
  model_dir = path_utils.serving_model_path(
      baseline.uri, path_utils.is_old_model_artifact(baseline))
  has_model = served.is_saved_model(model_dir)
  marked = baseline.has_custom_property(baseline_component.SERVED_PROPERTY)
  is_served = baseline.get_int_custom_property(
      baseline_component.SERVED_PROPERTY) == 1
  if marked and not is_served:
    return False, record_lib.BaselineRecord(
        used=False, source=source,
        note=(f'no model other than this candidate is served in {source}'
              if source else 'no model other than this candidate is served'))
  if not has_model:
    if marked:
      raise ValueError(f'the baseline {baseline.uri} is marked as served but '
                       f'holds no SavedModel in {model_dir}')
    return False, record_lib.BaselineRecord(
        used=False, note=f'the baseline {baseline.uri} holds no SavedModel')
  served_uri = baseline.get_string_custom_property(
      baseline_component.URI_PROPERTY)
  return True, record_lib.BaselineRecord(
      used=True, source=source, served_uri=served_uri,
      version=baseline.get_string_custom_property(
          baseline_component.VERSION_PROPERTY),
      note=(f'the model served from {served_uri}' if served_uri
            else f'the model in {baseline.uri}'))


class Executor(evaluator_executor.Executor):
  """TFX's evaluator executor, without a baseline that is not served."""

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    use, record = judge_baseline(input_dict.get(BASELINE_KEY) or [])
    if not use:
      input_dict = {k: v for k, v in input_dict.items() if k != BASELINE_KEY}
    logging.info('Evaluator baseline: %s', record.note)
    super().Do(input_dict, output_dict, exec_properties)
    evaluation = artifact_utils.get_single_uri(
        output_dict[standard_component_specs.EVALUATION_KEY])
    record_lib.write(record, evaluation)


class Evaluator(evaluator_component.Evaluator):
  """tfx.components.Evaluator whose baseline may be an unserved placeholder."""

  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
