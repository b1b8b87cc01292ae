"""What the Trainer told its loss and network, in the model run folder.

The Trainer writes two JSON files into its ModelRun artifact, so a user (and
the run summary, the slice report and `compare`) can see what a model was
trained with: `class_weights.json` (the loss, the resampling, per label the
train split's counts and the weights they imply, and per Male x Young cohort
its count and the weight `cohort_weighted_bce` gives it) and `hyperparameters.json` (the effective
ModelConfig and precision policy). This module is their one writer and one
reader; files go through tf.io.gfile, so the folder may be local or gs://.
"""

import dataclasses
import json
import os
from typing import Any, Dict, Mapping, Optional

import tensorflow as tf

from models import losses

CLASS_WEIGHTS_FILE = 'class_weights.json'
HPARAMS_FILE = 'hyperparameters.json'


@dataclasses.dataclass(frozen=True)
class TrainingRecord:
  """The loss, the class weights per label and the hyperparameters."""
  loss: str
  # label -> {'num_positive', 'num_negative', 'positive_rate',
  #           'positive_weight', 'negative_weight'}
  class_weights: Dict[str, Dict[str, float]]
  hyperparameters: Dict[str, Any]
  resample: str = 'none'
  # cohort name -> {'num_examples', 'share', 'weight'}
  cohorts: Optional[Dict[str, Dict[str, float]]] = None


def write(model_run_dir: str, hp: Mapping[str, Any],
          class_weights: Mapping[str, losses.ClassWeights],
          precision_policy: str,
          cohorts: Optional[losses.CohortCounts] = None) -> None:
  """Writes both files into `model_run_dir`."""
  tf.io.gfile.makedirs(model_run_dir)
  record = {'loss': hp['loss'], 'resample': hp.get('resample', 'none'),
            'labels': {k: v.as_dict() for k, v in class_weights.items()}}
  if cohorts is not None:
    record['cohorts'] = cohorts.as_dict()
  with tf.io.gfile.GFile(os.path.join(model_run_dir, CLASS_WEIGHTS_FILE),
                         'w') as f:
    json.dump(record, f, indent=2)
  with tf.io.gfile.GFile(os.path.join(model_run_dir, HPARAMS_FILE), 'w') as f:
    json.dump({**hp, 'precision_policy': precision_policy}, f, indent=2)


def _read_json(path: str) -> Optional[Dict[str, Any]]:
  if not tf.io.gfile.exists(path):
    return None
  with tf.io.gfile.GFile(path) as f:
    return json.load(f)


def read(model_run_dir: Optional[str]) -> Optional[TrainingRecord]:
  """The record in `model_run_dir`, or None when there is none."""
  if not model_run_dir:
    return None
  weights = _read_json(os.path.join(model_run_dir, CLASS_WEIGHTS_FILE))
  if weights is None:
    return None
  hparams = _read_json(os.path.join(model_run_dir, HPARAMS_FILE)) or {}
  return TrainingRecord(loss=weights.get('loss', hparams.get('loss', '?')),
                        class_weights=weights.get('labels', {}),
                        hyperparameters=hparams,
                        resample=weights.get('resample', 'none'),
                        cohorts=weights.get('cohorts'))
