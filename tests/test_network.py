"""Tests for models.network."""

import numpy as np
import pytest
import tf_keras

from models import network
from models import weights


@pytest.fixture(scope='module')
def model():
  return network.build_network(image_size=32, alpha=0.35,
                               batch_norm_momentum=0.9)


def test_two_sigmoid_outputs(model):
  out = model(np.zeros((3, 32, 32, 3), np.float32))
  assert set(out) == {'Male', 'Young'}
  for value in out.values():
    assert value.shape == (3, 1)
    assert np.all((value.numpy() > 0) & (value.numpy() < 1))


def test_batch_norm_momentum_is_applied(model):
  bns = [l for l in network.backbone_of(model).layers
         if isinstance(l, tf_keras.layers.BatchNormalization)]
  assert bns and all(l.momentum == 0.9 for l in bns)


def test_width_multiplier_changes_the_backbone(model):
  wide = network.build_network(32, alpha=1.0)
  assert wide.count_params() > 3 * model.count_params()


def test_embedding_model_shares_weights(model):
  with_embedding = network.embedding_model(model)
  x = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype('float32')
  out = with_embedding(x)
  assert out[network.EMBEDDING_LAYER].shape == (2, 1280)
  np.testing.assert_allclose(out['Male'], model(x)['Male'], rtol=1e-5)


def test_local_weights_file_is_loaded(tmp_path):
  source = tf_keras.applications.MobileNetV2(
      input_shape=(32, 32, 3), alpha=0.35, include_top=False, weights=None)
  path = str(tmp_path / 'backbone.h5')
  source.save_weights(path)
  built = network.build_network(32, alpha=0.35, weights=path)
  np.testing.assert_array_equal(
      network.backbone_of(built).get_weights()[0], source.get_weights()[0])


def test_missing_weights_file_is_a_clear_error(tmp_path):
  with pytest.raises(weights.WeightsUnavailableError, match='does not exist'):
    network.build_network(32, 0.35, weights=str(tmp_path / 'nope.h5'))


def test_imagenet_offline_says_how_to_provide_the_file(monkeypatch):
  def no_network(*args, **kwargs):
    raise Exception('URL fetch failure: no route to host')
  monkeypatch.setattr(tf_keras.utils, 'get_file', no_network)
  monkeypatch.setattr(
      'tf_keras.src.applications.mobilenet_v2.data_utils.get_file',
      no_network)
  with pytest.raises(weights.WeightsUnavailableError) as err:
    network.build_network(96, alpha=0.35, weights='imagenet')
  assert ('mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5'
          in str(err.value))
  assert '--weights' in str(err.value)
