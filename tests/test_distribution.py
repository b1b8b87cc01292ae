"""Tests for models.distribution."""

import json

import pytest
import tensorflow as tf
import tf_keras

from models import distribution


def test_default_and_mirrored_strategies():
  assert distribution.make_strategy('default').num_replicas_in_sync == 1
  mirrored = distribution.make_strategy('mirrored')
  assert isinstance(mirrored, tf.distribute.MirroredStrategy)


def test_multi_worker_needs_a_cluster_spec(monkeypatch):
  monkeypatch.delenv('TF_CONFIG', raising=False)
  with pytest.raises(ValueError, match='TF_CONFIG'):
    distribution.make_strategy('multi_worker')
  monkeypatch.setenv('TF_CONFIG', '{not json')
  with pytest.raises(json.JSONDecodeError):
    distribution.make_strategy('multi_worker')


def test_unknown_strategy():
  with pytest.raises(ValueError, match='tpu'):
    distribution.make_strategy('tpu')


def test_mixed_precision_only_where_it_helps():
  has_gpu = bool(tf.config.list_physical_devices('GPU'))
  assert distribution.use_mixed_precision('auto') == has_gpu
  assert distribution.use_mixed_precision('on')
  assert not distribution.use_mixed_precision('off')
  try:
    assert distribution.configure_precision('on') == 'mixed_float16'
    assert tf_keras.mixed_precision.global_policy().name == 'mixed_float16'
  finally:
    tf_keras.mixed_precision.set_global_policy('float32')
