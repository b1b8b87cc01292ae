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

The values are read from the export's variables checkpoint, found through
its object graph, without loading the SavedModel: restoring its traced
functions (every signature of a MobileNetV2) takes a second or more and
none of them is used here.
"""

import os
from typing import List, Optional

from absl import logging
import tensorflow as tf
from tensorflow.core.protobuf import trackable_object_graph_pb2
import tf_keras

from models import signatures

# How a checkpoint names its object graph and a variable's value.
_OBJECT_GRAPH_KEY = '_CHECKPOINTABLE_OBJECT_GRAPH'
_VARIABLE_VALUE = 'VARIABLE_VALUE'


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


def _served_variable_keys(reader) -> List[str]:
  """Checkpoint keys of the export's `model_variables`, in list order
  (`reader` from tf.train.load_checkpoint)."""
  graph = trackable_object_graph_pb2.TrackableObjectGraph()
  graph.ParseFromString(reader.get_tensor(_OBJECT_GRAPH_KEY))
  root = graph.nodes[0]
  listed = [c.node_id for c in root.children
            if c.local_name == signatures.MODEL_VARIABLES]
  if not listed:
    return []
  keys = []
  for child in graph.nodes[listed[0]].children:
    (key,) = [a.checkpoint_key for a in graph.nodes[child.node_id].attributes
              if a.name == _VARIABLE_VALUE]
    keys.append(key)
  return keys


def load_served_weights(model: tf_keras.Model, saved_model_path: str) -> int:
  """Sets `model`'s variables to the served model's; returns how many.

  Raises:
    WarmStartError: naming the first variable whose shape differs, or the
      count when the served network has more or fewer variables.
  """
  reader = tf.train.load_checkpoint(
      os.path.join(saved_model_path, tf.saved_model.VARIABLES_DIRECTORY,
                   tf.saved_model.VARIABLES_FILENAME))
  keys = _served_variable_keys(reader)
  if len(keys) != len(model.variables):
    raise WarmStartError(
        f'{saved_model_path}: the served model has {len(keys)} variables, '
        f'this network {len(model.variables)}; a warm start needs the same '
        'network (alpha, image size)')
  shapes = reader.get_variable_to_shape_map()
  for target, key in zip(model.variables, keys):
    if target.shape != shapes[key]:
      raise WarmStartError(
          f'{saved_model_path}: variable {target.name} is '
          f'{list(shapes[key])} in the served model and '
          f'{target.shape.as_list()} here; a warm start needs the same '
          'network (alpha, image size)')
  for target, key in zip(model.variables, keys):
    target.assign(reader.get_tensor(key))
  logging.info('Warm start: %d variables from the served model %s',
               len(keys), saved_model_path)
  return len(keys)
