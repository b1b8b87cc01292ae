"""Where training runs: the tf.distribute strategy and mixed precision.

The Trainer code is the same on a laptop, on a GPU node and on a multi-worker
cluster; `ModelConfig.distribution_strategy` picks the strategy:

* 'default': whatever TF finds (one CPU or GPU).
* 'mirrored': synchronous data parallelism over all local GPUs.
* 'multi_worker': synchronous training across workers; the cluster comes from
  the `TF_CONFIG` environment variable, which Vertex AI Training and Kubeflow's
  TFJob set on every replica.

Mixed precision ('auto') is enabled only where it helps: on GPUs with tensor
cores; on CPUs float16 compute is slower than float32.
"""

import os

import json

import tensorflow as tf
import tf_keras


def make_strategy(name: str) -> tf.distribute.Strategy:
  """Returns the tf.distribute strategy called `name`."""
  if name == 'default':
    return tf.distribute.get_strategy()
  if name == 'mirrored':
    return tf.distribute.MirroredStrategy()
  if name == 'multi_worker':
    if 'TF_CONFIG' not in os.environ:
      raise ValueError(
          "distribution_strategy='multi_worker' needs a cluster spec in the "
          'TF_CONFIG environment variable (set by Vertex AI Training, TFJob '
          'or your launcher); none is set')
    json.loads(os.environ['TF_CONFIG'])  # Fail early on a malformed spec.
    return tf.distribute.MultiWorkerMirroredStrategy()
  raise ValueError(f'unknown distribution strategy {name!r}')


def use_mixed_precision(mode: str) -> bool:
  """Whether `mode` ('auto', 'on', 'off') means mixed_float16 on this host."""
  if mode == 'on':
    return True
  if mode == 'off':
    return False
  return bool(tf.config.list_physical_devices('GPU'))


def configure_precision(mode: str) -> str:
  """Sets the global Keras dtype policy and returns its name."""
  policy = 'mixed_float16' if use_mixed_precision(mode) else 'float32'
  tf_keras.mixed_precision.set_global_policy(policy)
  return policy
