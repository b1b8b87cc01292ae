"""Reading what other components recorded: balance, class weights, the push.

Each reader takes a folder or an artifact and returns plain data, or None when
the piece is absent, so the report degrades to 'not recorded' instead of
failing: a report without its context is still worth writing.
"""

import dataclasses
import json
import os
from typing import Any, Dict, Optional

import tensorflow as tf
from tfx import types

from components import label_balance
from models import model as model_module


@dataclasses.dataclass(frozen=True)
class PushRecord:
  """What the Pusher did with the model."""
  pushed: bool
  destination: str  # '' when not pushed


@dataclasses.dataclass(frozen=True)
class TrainingRecord:
  """What the Trainer recorded about the loss (models.model.write_run_record)."""
  loss: str
  # label -> {'positive_weight', 'negative_weight', 'positive_rate', ...}
  class_weights: Dict[str, Dict[str, float]]
  hyperparameters: Dict[str, Any]


def _read_json(path: str) -> Optional[Dict[str, Any]]:
  if not tf.io.gfile.exists(path):
    return None
  with tf.io.gfile.GFile(path) as f:
    return json.load(f)


def training_record(model_run_uri: Optional[str]) -> Optional[TrainingRecord]:
  """Class weights and hyperparameters from the Trainer's model_run folder."""
  if not model_run_uri:
    return None
  weights = _read_json(os.path.join(model_run_uri,
                                    model_module.CLASS_WEIGHTS_FILE))
  if weights is None:
    return None
  hparams = _read_json(os.path.join(model_run_uri,
                                    model_module.HPARAMS_FILE)) or {}
  return TrainingRecord(loss=weights.get('loss', hparams.get('loss', '?')),
                        class_weights=weights.get('labels', {}),
                        hyperparameters=hparams)


def push_record(pushed_model: Optional[types.Artifact]) -> Optional[PushRecord]:
  """The Pusher's verdict from its PushedModel artifact's properties.

  Read through the artifact's getters: on Kubeflow Pipelines the properties
  arrive as JSON values (`pushed` a double), not as the ints the Pusher set.
  """
  if pushed_model is None:
    return None
  pushed = bool(pushed_model.get_int_custom_property('pushed'))
  destination = pushed_model.get_string_custom_property('pushed_destination')
  return PushRecord(pushed=pushed, destination=destination if pushed else '')


def push_record_from_mlmd(artifact) -> PushRecord:
  """The Pusher's verdict from an MLMD Artifact proto (what `compare` reads
  from the store; a TFX artifact wraps the same proto)."""
  props = artifact.custom_properties
  pushed = bool(props['pushed'].int_value) if 'pushed' in props else False
  destination = (props['pushed_destination'].string_value
                 if pushed and 'pushed_destination' in props else '')
  return PushRecord(pushed=pushed, destination=destination)


def balance(statistics: Optional[types.Artifact]
            ) -> Optional[Dict[str, label_balance.SplitBalance]]:
  """Label balance per split from StatisticsGen's sliced statistics."""
  if statistics is None:
    return None
  return label_balance.read_balance(statistics)
