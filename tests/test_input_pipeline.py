"""Tests for models.input_pipeline."""

import numpy as np
import pytest
import tensorflow as tf

from models import features
from models import input_pipeline
from tests import example_data

SIZE = 32


@pytest.fixture(scope='module')
def data(tmp_path_factory, shared_transform):
  tmp = tmp_path_factory.mktemp('data')
  examples = example_data.raw_examples(10, seed=3)
  path = example_data.write_gzip_tfrecord(str(tmp / 'train' / 'data.gz'),
                                        examples)
  return examples, path, shared_transform


def test_eval_dataset_yields_pixels_and_labels_in_order(data):
  examples, path, output = data
  ds = input_pipeline.make_dataset(path, output.transform_features_layer(),
                                   batch_size=4, training=False)
  batches = list(ds)
  assert [b[0].shape[0] for b in batches] == [4, 4, 2]
  images, labels = batches[0]
  assert images.shape == (4, SIZE, SIZE, 3)
  assert labels['Male'].shape == (4, 1)
  np.testing.assert_array_equal(
      np.concatenate([b[1]['Young'].numpy().ravel() for b in batches]),
      [e[features.YOUNG_KEY][0] for e in examples])


def test_training_pixels_equal_the_serving_transform(data):
  examples, path, output = data
  layer = output.transform_features_layer()
  ds = input_pipeline.make_dataset(path, layer, batch_size=10, training=False)
  images, _ = next(iter(ds))
  serving = layer({features.IMAGE_KEY: tf.constant(
      [e[features.IMAGE_KEY] for e in examples])})['image_xf']
  # Same graph; tf.data's graph rewrites may reorder float ops (1 ulp).
  np.testing.assert_allclose(images.numpy(), serving.numpy(), atol=1e-6)


def test_training_shuffles_but_keeps_every_example(data):
  examples, path, output = data
  ds = input_pipeline.make_dataset(path, output.transform_features_layer(),
                                   batch_size=10, training=True, seed=1,
                                   shuffle_buffer=10)
  _, labels = next(iter(ds))
  assert sorted(labels['Young'].numpy().ravel()) == sorted(
      e[features.YOUNG_KEY][0] for e in examples)


def test_missing_files_are_named(tmp_path, data):
  with pytest.raises(FileNotFoundError, match='nothing-here'):
    input_pipeline.make_dataset(str(tmp_path / 'nothing-here' / '*'),
                                data[2].transform_features_layer(), 2, False)
