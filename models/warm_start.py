"""Starting training from the model being served, as the reference study did.

The study trained a plain-BCE model, then fine-tuned that same model with a
class-weighted loss. Here the model to start from is the one being served
(the pipeline hands the Trainer the served model as its `base_model`), and
what it hands over is an export of `models.signatures`: a SavedModel whose
`model_variables` are the network's variables in the order the network
builds them. A network built with the same configuration has the same
variables in the same order, so its weights are those values, checked
by shape; a served model of another architecture (another alpha or
input size) is refused with the first variable that differs.
"""

import os
from typing import Optional

from absl import logging
import tensorflow as tf
import tf_keras


class WarmStartError(ValueError):
  """The served model cannot be the starting point of this network."""


def served_model_path(base_model: Optional[str]) -> Optional[str]:
  """The SavedModel folder to start from, or None when nothing is served
  (no base model, or an empty one: nothing was being served)."""
  if not base_model:
    return None
  if not tf.io.gfile.exists(os.path.join(base_model, 'saved_model.pb')):
    return None
  return base_model


def load_served_weights(model: tf_keras.Model, saved_model_path: str) -> int:
  """Sets `model`'s variables to the served model's; returns how many.

  Raises:
    WarmStartError: naming the first variable whose shape differs, or the
      count when the served network has more or fewer variables.
  """
  served = tf.saved_model.load(saved_model_path)
  values = list(getattr(served, 'model_variables', []))
  if len(values) != len(model.variables):
    raise WarmStartError(
        f'{saved_model_path}: the served model has {len(values)} variables, '
        f'this network {len(model.variables)}; a warm start needs the same '
        'network (alpha, image size)')
  for target, value in zip(model.variables, values):
    if target.shape != value.shape:
      raise WarmStartError(
          f'{saved_model_path}: variable {target.name} is '
          f'{value.shape.as_list()} in the served model and '
          f'{target.shape.as_list()} here; a warm start needs the same '
          'network (alpha, image size)')
  for target, value in zip(model.variables, values):
    target.assign(value)
  logging.info('Warm start: %d variables from the served model %s',
               len(values), saved_model_path)
  return len(values)
