"""Tests for models.model: the Trainer's run_fn on a handful of examples."""

import json
import os

import dataclasses

import pytest
import tensorflow as tf
import tensorflow_transform as tft
from tfx.components.trainer import fn_args_utils
import tf_keras

from models import losses
from models import model as model_module
from models import network
from models import run_record
from models import signatures
from tests import example_data
from tests import tiny_model
from pipeline import configs

SIZE = 32


@pytest.fixture(scope='module')
def data(tmp_path_factory, shared_transform):
  """Train and eval files, and the Transform graph of train: like the
  pipeline, Transform analyzed the train split only (the shared examples)."""
  tmp = tmp_path_factory.mktemp('model_data')
  train = example_data.write_gzip_tfrecord(
      str(tmp / 'train' / 'part.gz'), example_data.shared_examples())
  evaluation = example_data.write_gzip_tfrecord(
      str(tmp / 'eval' / 'part.gz'), example_data.raw_examples(8, seed=9))
  return train, evaluation, example_data.transform_dir(shared_transform)


def _fn_args(tmp_path, data, hp):
  train, evaluation, transform_output = data
  return fn_args_utils.FnArgs(
      train_files=[train], eval_files=[evaluation],
      transform_output=transform_output,
      serving_model_dir=str(tmp_path / 'serving'),
      model_run_dir=str(tmp_path / 'run'),
      custom_config={model_module.MODEL_CONFIG_KEY: hp})


def _hp(**overrides):
  return dataclasses.asdict(
      dataclasses.replace(
          configs.ModelConfig(image_size=SIZE, epochs=1, batch_size=8),
          **overrides))


def test_run_fn_trains_exports_and_records_the_weights(tmp_path, data,
                                                       monkeypatch):
  """The default loss is exercised by every pipeline run; this one trains
  with the per-example path (cohort weights on an oversampled stream). The
  network is a small one with MobileNetV2's interface: what is asserted is
  the Trainer's, not the backbone's (tests/test_network.py)."""
  monkeypatch.setattr(network, 'build_network',
                      lambda **kwargs: tiny_model.network(seed=0))
  args = _fn_args(tmp_path, data, _hp(loss='cohort_weighted_bce',
                                      resample='oversample',
                                      steps_per_epoch=2))
  model_module.run_fn(args)
  loaded = tf.saved_model.load(args.serving_model_dir)
  assert signatures.SERVING_DEFAULT in loaded.signatures
  with open(os.path.join(args.model_run_dir,
                         run_record.CLASS_WEIGHTS_FILE)) as f:
    record = json.load(f)
  assert record['loss'] == 'cohort_weighted_bce'
  assert record['resample'] == 'oversample'
  cohorts = record['cohorts']
  assert sum(c['num_examples'] for c in cohorts.values()) == 24
  for cohort in cohorts.values():
    assert cohort['num_examples'] * cohort['weight'] == pytest.approx(6)
  male = record['labels']['Male']
  assert male['num_positive'] + male['num_negative'] == 24  # train split only
  assert male['positive_weight'] * male['num_positive'] == pytest.approx(12)
  assert tf.io.gfile.glob(os.path.join(args.model_run_dir, 'logs', 'train',
                                       'events.out.tfevents.*'))


def test_pretrained_weights_train_in_two_phases(tmp_path, data, monkeypatch):
  backbone = tf_keras.applications.MobileNetV2(
      input_shape=(SIZE, SIZE, 3), alpha=0.35, include_top=False, weights=None)
  weights = str(tmp_path / 'backbone.h5')
  backbone.save_weights(weights)
  fits = []

  # records the phases, trains nothing
  def recording_fit(self, *args, **kwargs):
    del args
    schedule = self.optimizer.learning_rate  # the phase's peak at step 0
    fits.append((network.backbone_of(self).trainable,
                 float(schedule(0) if callable(schedule) else schedule),
                 kwargs.get('initial_epoch', 0), kwargs.get('epochs')))

  monkeypatch.setattr(tf_keras.Model, 'fit', recording_fit)
  args = _fn_args(tmp_path, data, {})
  hp = _hp(weights=weights, frozen_epochs=2, epochs=3, learning_rate=1e-2,
           fine_tune_learning_rate=1e-4)
  output = tft.TFTransformOutput(args.transform_output)
  model_module.train(hp, args.train_files, args.eval_files, output,
                     losses.class_weights_from_transform(output),
                     str(tmp_path / 'logs'))
  assert fits == [(False, pytest.approx(1e-2), 0, 2),
                  (True, pytest.approx(1e-4), 2, 5)]


def test_from_scratch_trains_in_one_phase(tmp_path, data, monkeypatch):
  fits = []
  monkeypatch.setattr(
      tf_keras.Model, 'fit',
      lambda self, *a, **k: fits.append(network.backbone_of(self).trainable))
  args = _fn_args(tmp_path, data, {})
  output = tft.TFTransformOutput(args.transform_output)
  model_module.train(_hp(weights='none', frozen_epochs=2), args.train_files,
                     args.eval_files, output,
                     losses.class_weights_from_transform(output),
                     str(tmp_path / 'logs'))
  assert fits == [True]


def test_run_record_names_the_loss_and_policy(tmp_path):
  weights = {'Male': losses.ClassWeights('Male', 3, 7),
             'Young': losses.ClassWeights('Young', 8, 2)}
  run_record.write(str(tmp_path), _hp(loss='bce'), weights,
                                'float32')
  with open(tmp_path / run_record.CLASS_WEIGHTS_FILE) as f:
    record = json.load(f)
  assert record['loss'] == 'bce'
  assert record['labels']['Young']['negative_weight'] == pytest.approx(2.5)
  with open(tmp_path / run_record.HPARAMS_FILE) as f:
    assert json.load(f)['precision_policy'] == 'float32'
