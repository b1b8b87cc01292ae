"""The balancing methods: cohort weights and resampling from train's counts,
and the warm start from the served model."""

import collections
import dataclasses

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from models import features
from models import input_pipeline
from models import losses
from models import model as model_module
from models import network
from models import signatures
from models import warm_start
from pipeline import configs
from pipeline import model_flags
from tests import example_data

import local_runner

SIZE = 32
# The shared examples: 12 Young x Female, 6 Young x Male, 4 Non-Young x
# Female, 2 Non-Young x Male, so the cohorts are as unequal as CelebA's.
COUNTS = example_data.SHARED_COHORT_COUNTS


@pytest.fixture(scope='module')
def data(tmp_path_factory, shared_transform):
  tmp = tmp_path_factory.mktemp('balance')
  path = example_data.write_gzip_tfrecord(str(tmp / 'train' / 'data.gz'),
                                          example_data.shared_examples())
  return path, shared_transform


def _cohorts(labels):
  return list(zip(labels[features.MALE_KEY].numpy().ravel().astype(int),
                  labels[features.YOUNG_KEY].numpy().ravel().astype(int)))


def test_cohort_counts_come_from_the_transform_graph(data):
  cohorts = losses.cohort_counts_from_transform(data[1])
  assert cohorts.counts == COUNTS
  weights = cohorts.weights()
  assert weights[(1, 0)] == pytest.approx(24 / (4 * 2))
  # Every cohort then weighs a quarter of the split.
  for cohort, count in COUNTS.items():
    assert count * weights[cohort] == pytest.approx(6)
  assert cohorts.resample_rates('oversample')[(1, 0)] == pytest.approx(6)
  assert cohorts.resample_rates('undersample')[(0, 1)] == pytest.approx(2 / 12)


def test_a_missing_cohort_cannot_be_balanced():
  with pytest.raises(ValueError, match='no Non-Young x Male examples'):
    losses.parse_cohort_counts([b'5 0_1', b'3 1_1', b'2 0_0'])
  with pytest.raises(ValueError, match="unexpected value '2_1'"):
    losses.parse_cohort_counts([b'5 2_1'])


def test_cohort_weights_ride_with_every_example(data):
  path, output = data
  weights = losses.cohort_counts_from_transform(output).weights()
  ds = input_pipeline.make_dataset(path, output.transform_features_layer(),
                                   batch_size=24, training=False,
                                   cohort_weights=weights)
  _, labels, sample_weights = next(iter(ds))
  expected = [weights[c] for c in _cohorts(labels)]
  for label in features.LABEL_KEYS:
    np.testing.assert_allclose(sample_weights[label].numpy().ravel(),
                               expected, rtol=1e-6)


@pytest.mark.parametrize('mode', ['oversample', 'undersample'])
def test_resampled_batches_are_cohort_balanced(data, mode):
  path, output = data
  cohorts = losses.cohort_counts_from_transform(output)
  ds = input_pipeline.make_dataset(
      path, output.transform_features_layer(), batch_size=64, training=True,
      seed=3, shuffle_buffer=24, cache_in_memory=(mode == 'undersample'),
      resample_rates=cohorts.resample_rates(mode))
  seen = collections.Counter()
  for _, labels in ds.take(40):  # a repeating stream: 2,560 examples
    seen.update(_cohorts(labels))
  total = sum(seen.values())
  for cohort in COUNTS:
    assert seen[cohort] / total == pytest.approx(0.25, abs=0.03), seen
  if mode == 'undersample':
    # Every example of the smallest cohort comes about once per epoch.
    assert cohorts.resample_target(mode) == 2


def test_a_seeded_resampled_stream_repeats_itself(data):
  path, output = data
  rates = losses.cohort_counts_from_transform(output).resample_rates(
      'oversample')

  def first_labels():
    ds = input_pipeline.make_dataset(
        path, output.transform_features_layer(), batch_size=16,
        training=True, seed=7, shuffle_buffer=24, resample_rates=rates)
    return [_cohorts(labels) for _, labels in ds.take(5)]

  assert first_labels() == first_labels()


def _hp(**overrides):
  return dataclasses.asdict(dataclasses.replace(
      configs.ModelConfig(image_size=SIZE, epochs=1, batch_size=8),
      **overrides))


def test_the_trainer_fits_resampled_epochs_with_cohort_weights(
    data, tmp_path, monkeypatch):
  path, output = data
  fits = []

  def recording_fit(self, x, **kwargs):
    del self
    fits.append((len(next(iter(x))), kwargs['steps_per_epoch'],
                 len(next(iter(kwargs['validation_data'])))))

  monkeypatch.setattr(tf_keras.Model, 'fit', recording_fit)
  model_module.train(
      _hp(loss='cohort_weighted_bce', resample='oversample'), [path], [path],
      output, losses.class_weights_from_transform(output),
      str(tmp_path / 'logs'))
  # (pixels, labels, weights) in training and validation; an epoch is four
  # times the largest cohort (4 x 12 = 48 examples) in batches of 8.
  assert fits == [(3, 6, 3)]


def test_both_runners_take_the_balancing_flags():
  flags = ['--loss', 'cohort_weighted_bce', '--resample', 'undersample',
           '--seed', '3']
  config = configs.for_run(
      'sample', **model_flags.model_overrides(local_runner.parse_args(flags)))
  assert (config.model.loss, config.model.resample, config.model.seed) == (
      'cohort_weighted_bce', 'undersample', 3)
  with pytest.raises(ValueError, match='resample must be one of'):
    configs.ModelConfig(resample='smote')


@pytest.fixture(scope='module')
def served(data, tmp_path_factory):
  """A served model: an export of a network of the test configuration."""
  _, output = data
  hp = _hp()
  net = network.build_network(image_size=SIZE, alpha=hp['alpha'],
                              seed=11, augment=hp['augment'])
  path = str(tmp_path_factory.mktemp('served') / '1')
  signatures.export(net, output.transform_features_layer(), SIZE, path)
  return path, [v.numpy() for v in net.variables]


def test_a_warm_start_begins_at_the_served_weights(data, served, tmp_path,
                                                   monkeypatch):
  path, output = data
  served_path, served_values = served
  first_weights, rates = [], []

  def recording_fit(self, *args, **kwargs):
    del args, kwargs
    first_weights.append([v.numpy() for v in self.variables])
    rates.append(float(self.optimizer.learning_rate(0)))

  monkeypatch.setattr(tf_keras.Model, 'fit', recording_fit)
  hp = _hp(warm_start=True, fine_tune_learning_rate=3e-5)
  model_module.train(hp, [path], [path], output,
                     losses.class_weights_from_transform(output),
                     str(tmp_path / 'logs'), start_from=served_path)
  (weights,) = first_weights  # one phase: nothing is frozen
  assert len(weights) == len(served_values)
  for value, expected in zip(weights, served_values):
    np.testing.assert_array_equal(value, expected)
  assert rates == [pytest.approx(3e-5)]


def test_nothing_served_means_no_warm_start(tmp_path, served):
  assert warm_start.served_model_path(None) is None
  assert warm_start.served_model_path(str(tmp_path)) is None  # empty model
  assert warm_start.served_model_path(served[0]) == served[0]


def test_a_served_model_of_another_width_is_refused(served):
  other = network.build_network(image_size=SIZE, alpha=0.5)
  with pytest.raises(warm_start.WarmStartError,
                     match='a warm start needs the same network'):
    warm_start.load_served_weights(other, served[0])


def test_a_saved_model_without_the_network_variables_is_refused(tmp_path):
  """Another program's SavedModel: no `model_variables` to start from."""
  module = tf.Module()
  module.weights = [tf.Variable([1.0, 2.0])]
  tf.saved_model.save(module, str(tmp_path))
  net = tf_keras.Sequential([tf_keras.Input((2,)), tf_keras.layers.Dense(1)])
  with pytest.raises(warm_start.WarmStartError,
                     match='the served model has 0 variables, this network 2'):
    warm_start.load_served_weights(net, str(tmp_path))
  # Nothing was assigned.
  assert net.layers[0].bias.numpy().tolist() == [0.0]
