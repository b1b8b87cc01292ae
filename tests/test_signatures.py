"""Tests for models.signatures: export, reload, call every signature."""

import numpy as np
import pytest
import tensorflow as tf

from models import features
from models import network
from models import signatures
from tests import example_data

SIZE = 32


@pytest.fixture(scope='module')
def exported(tmp_path_factory, shared_transform):
  tmp = tmp_path_factory.mktemp('export')
  examples = example_data.raw_examples(4, seed=5)
  output = shared_transform
  model = network.build_network(SIZE, alpha=0.35)
  export_dir = str(tmp / 'model')
  signatures.export(model, output.transform_features_layer(), SIZE, export_dir)
  return examples, model, output, tf.saved_model.load(export_dir)


def test_all_signatures_are_exported(exported):
  loaded = exported[3]
  assert set(loaded.signatures) == {
      signatures.SERVING_DEFAULT, signatures.SERVING_JPEG,
      signatures.TRANSFORM_JPEG, signatures.PREDICT_PIXELS}


def test_examples_and_jpeg_signatures_agree(exported):
  examples, _, _, loaded = exported
  # Serving examples carry only the image: labels are unknown at inference.
  serialized = tf.constant([example_data.serialize(
      {features.IMAGE_KEY: e[features.IMAGE_KEY]}) for e in examples])
  jpegs = tf.constant([e[features.IMAGE_KEY][0] for e in examples])
  by_example = loaded.signatures[signatures.SERVING_DEFAULT](
      examples=serialized)
  by_jpeg = loaded.signatures[signatures.SERVING_JPEG](image_bytes=jpegs)
  assert set(by_example) == set(features.LABEL_KEYS)
  for label in features.LABEL_KEYS:
    assert by_example[label].shape == (4, 1)
    assert by_example[label].dtype == tf.float32
    np.testing.assert_allclose(by_example[label], by_jpeg[label], atol=1e-6)


def test_labelled_examples_are_accepted_too(exported):
  examples, _, _, loaded = exported
  serialized = tf.constant([example_data.serialize(e) for e in examples])
  out = loaded.signatures[signatures.SERVING_DEFAULT](examples=serialized)
  assert out['Male'].shape == (4, 1)


def test_pixel_signatures_compose_to_serving(exported):
  examples, model, output, loaded = exported
  jpegs = tf.constant([e[features.IMAGE_KEY][0] for e in examples])
  pixels = loaded.signatures[signatures.TRANSFORM_JPEG](image_bytes=jpegs)[
      'image_xf']
  assert pixels.shape == (4, SIZE, SIZE, 3)
  out = loaded.signatures[signatures.PREDICT_PIXELS](image_xf=pixels)
  assert out[network.EMBEDDING_LAYER].shape == (4, 1280)
  served = loaded.signatures[signatures.SERVING_JPEG](image_bytes=jpegs)
  np.testing.assert_allclose(out['Young'], served['Young'], atol=1e-6)
  # And the reloaded model predicts what the in-memory one does.
  layer_pixels = output.transform_features_layer()(
      {features.IMAGE_KEY: tf.reshape(jpegs, [-1, 1])})['image_xf']
  np.testing.assert_allclose(model(layer_pixels)['Male'], served['Male'],
                             atol=1e-5)


def test_one_image_and_none_score_as_they_do_in_a_batch(exported):
  """A single image is padded to two inside the signature (a speed measure);
  what comes out is that image's score alone, as in any other batch."""
  examples, _, _, loaded = exported
  jpegs = tf.constant([e[features.IMAGE_KEY][0] for e in examples])
  serve = loaded.signatures[signatures.SERVING_JPEG]
  batch = serve(image_bytes=jpegs)
  for i in range(len(examples)):
    alone = serve(image_bytes=jpegs[i:i + 1])
    for label in features.LABEL_KEYS:
      assert alone[label].shape == (1, 1)
      np.testing.assert_allclose(alone[label], batch[label][i:i + 1],
                                 atol=1e-5)
  pixels = loaded.signatures[signatures.TRANSFORM_JPEG](
      image_bytes=jpegs[:1])['image_xf']
  empty = loaded.signatures[signatures.PREDICT_PIXELS](image_xf=pixels[:0])
  assert empty[network.EMBEDDING_LAYER].shape == (0, 1280)
  assert empty['Male'].shape == (0, 1)


def test_gradients_flow_through_the_loaded_pixel_signature(exported):
  loaded = exported[3]
  pixels = tf.Variable(tf.zeros((1, SIZE, SIZE, 3)))
  with tf.GradientTape() as tape:
    out = loaded.signatures[signatures.PREDICT_PIXELS](image_xf=pixels)['Male']
  grad = tape.gradient(out, pixels)
  assert grad is not None and np.isfinite(grad.numpy()).all()
