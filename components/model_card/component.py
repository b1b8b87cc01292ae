"""ModelCardGenerator: the TFX component that writes the run's model card.

Shaped like the Model Card Toolkit's TFX component (a ComponentSpec, an
executor class), which cannot be installed beside TFX 1.16. It runs after the
Evaluator (and the Pusher, so the card can say what happened to the model);
its output is a ModelCard artifact (components.artifacts) holding
model_card.json, model_card.md and model_card.html.

Inputs:
  evaluation    the Evaluator's ModelEvaluation (metrics, intervals, sweeps,
                the validation result and the eval config that was checked)
  model         the Trainer's Model (its signatures)
  data_report   the DataReport (split sizes, label balance per split)
  model_run     optional: the Trainer's ModelRun (hyperparameters, weights)
  pushed_model  optional: the Pusher's PushedModel (the served version)
Parameters:
  data_note     a caveat about the data, e.g. that it is the generated sample
  code_digest   only part of the cache key: TFX does not fingerprint an
                executor class's code, so an edited card would be served from
                the cache without it
"""

from typing import Optional

from tfx import types
from tfx.dsl.components.base import base_component
from tfx.dsl.components.base import executor_spec
from tfx.types import component_spec
from tfx.types import standard_artifacts

from components import artifacts
from components.model_card import executor


class ModelCardGeneratorSpec(types.ComponentSpec):
  """Inputs, outputs and parameters of the ModelCardGenerator."""
  PARAMETERS = {
      executor.DATA_NOTE_KEY: component_spec.ExecutionParameter(
          type=str, optional=True),
      executor.CODE_DIGEST_KEY: component_spec.ExecutionParameter(
          type=str, optional=True),
  }
  INPUTS = {
      executor.EVALUATION_KEY: component_spec.ChannelParameter(
          type=standard_artifacts.ModelEvaluation),
      executor.MODEL_KEY: component_spec.ChannelParameter(
          type=standard_artifacts.Model),
      executor.DATA_REPORT_KEY: component_spec.ChannelParameter(
          type=artifacts.DataReport),
      executor.MODEL_RUN_KEY: component_spec.ChannelParameter(
          type=standard_artifacts.ModelRun, optional=True),
      executor.PUSHED_MODEL_KEY: component_spec.ChannelParameter(
          type=standard_artifacts.PushedModel, optional=True),
  }
  OUTPUTS = {
      executor.MODEL_CARD_KEY: component_spec.ChannelParameter(
          type=artifacts.ModelCard),
  }


class ModelCardGenerator(base_component.BaseComponent):
  """Writes a Model Card Toolkit v0.0.2 card for the run's candidate model."""
  SPEC_CLASS = ModelCardGeneratorSpec
  EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

  def __init__(self,
               evaluation: types.BaseChannel,
               model: types.BaseChannel,
               data_report: types.BaseChannel,
               model_run: Optional[types.BaseChannel] = None,
               pushed_model: Optional[types.BaseChannel] = None,
               data_note: str = '',
               code_digest: str = ''):
    spec = ModelCardGeneratorSpec(
        evaluation=evaluation, model=model, data_report=data_report,
        model_run=model_run, pushed_model=pushed_model,
        data_note=data_note, code_digest=code_digest,
        model_card=types.Channel(type=artifacts.ModelCard))
    super().__init__(spec=spec)
