"""Tests for models.preprocessing: the Transform graph itself."""

import numpy as np
import pytest
import tensorflow as tf

from models import features
from models import preprocessing
from tests import example_data


SIZE = 32


@pytest.fixture(scope='module')
def examples():
  """24 faces: 8 Male, 18 Young (example_data.SHARED_MALE, SHARED_YOUNG)."""
  return example_data.shared_examples()


@pytest.fixture(scope='module')
def transform_output(shared_transform):
  """The Transform graph tf.Transform built over `examples`."""
  return shared_transform


def test_decode_and_resize_shape_and_range(examples):
  jpegs = tf.constant([e[features.IMAGE_KEY] for e in examples])
  images = preprocessing.decode_and_resize(jpegs, 40).numpy()
  assert images.shape == (len(examples), 40, 40, 3)
  assert images.dtype == np.float32
  assert images.min() >= -1.0 and images.max() <= 1.0
  assert images.std() > 0.05  # real content, not a constant


def test_decode_and_resize_matches_mobilenet_scaling():
  pixels = np.full((218, 178, 3), 255, np.uint8)
  pixels[:, :89] = 0
  jpeg = tf.io.encode_jpeg(pixels, quality=100)
  image = preprocessing.decode_and_resize(tf.reshape(jpeg, [1]), 64)[0].numpy()
  assert image[:, :20].max() < -0.95   # black -> -1
  assert image[:, -20:].min() > 0.95   # white -> +1


def test_undecodable_image_fails_loudly():
  with pytest.raises(tf.errors.InvalidArgumentError):
    preprocessing.decode_and_resize(tf.constant([b'not a jpeg']), 32)


def test_label_count_vocabularies(transform_output):
  male = dict(reversed(line.decode().split(' ')) for line in
              transform_output.vocabulary_by_name('Male_label_counts'))
  young = dict(reversed(line.decode().split(' ')) for line in
               transform_output.vocabulary_by_name('Young_label_counts'))
  assert male == {'1': '8', '0': '16'}
  assert young == {'1': '18', '0': '6'}


def test_serving_input_without_labels_gives_same_pixels(examples,
                                                        transform_output):
  layer = transform_output.transform_features_layer()
  jpegs = tf.constant([e[features.IMAGE_KEY] for e in examples])
  with_labels = layer({
      features.IMAGE_KEY: tf.reshape(jpegs, [-1, 1]),
      features.MALE_KEY: tf.constant([e['Male'] for e in examples], tf.int64),
      features.YOUNG_KEY: tf.constant([e['Young'] for e in examples], tf.int64),
  })
  image_only = layer({features.IMAGE_KEY: tf.reshape(jpegs, [-1, 1])})
  assert set(image_only) == {preprocessing.IMAGE_XF_KEY}
  np.testing.assert_array_equal(with_labels[preprocessing.IMAGE_XF_KEY],
                                image_only[preprocessing.IMAGE_XF_KEY])
  np.testing.assert_array_equal(with_labels['Male'].numpy().ravel(),
                                example_data.SHARED_MALE)
  assert with_labels[preprocessing.IMAGE_XF_KEY].shape == (
      len(examples), SIZE, SIZE, 3)
