"""The Trainer's `run_fn`: train MobileNetV2 on two labels and export it.

Train on the `train` split, early-stop on `eval` (the Evaluator judges on the
held-out `test` split). With pretrained weights, training has two phases: the
heads alone on a frozen backbone, then the whole network at a lower learning
rate; from scratch, one phase. The class weights, the effective
hyperparameters and TensorBoard logs land in the model run folder, so a user
can see what the loss was told.
"""

import os

import math
from typing import Any, Dict, List, Optional, Tuple

from absl import logging
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras

from models import distribution
from models import features
from models import input_pipeline
from models import losses
from models import network
from models import progress
from models import run_record
from models import signatures
from models import warm_start

# Key of the model hyperparameters in the Trainer's custom_config.
MODEL_CONFIG_KEY = 'model'


def _metrics() -> Dict[str, List[tf_keras.metrics.Metric]]:
  # Accuracy only, for the logs: the Evaluator judges the model (AUC
  # included); Keras' AUC cost a tenth of each training step on a CPU.
  return {label: [tf_keras.metrics.BinaryAccuracy(name='accuracy')]
          for label in features.LABEL_KEYS}


def _compile(model: tf_keras.Model, learning_rate: float, decay_steps: int,
             loss_fns: Dict[str, tf_keras.losses.Loss]) -> None:
  """Adam with cosine decay over the phase: late epochs settle, not bounce.

  Keras' legacy Adam applies each variable's update as one fused op, where
  the current one builds its update from a dozen ops per variable in Python:
  the same algorithm, and tracing MobileNetV2's train step took 15 s less
  here.
  """
  schedule = tf_keras.optimizers.schedules.CosineDecay(
      learning_rate, decay_steps=max(1, decay_steps), alpha=0.05)
  model.compile(optimizer=tf_keras.optimizers.legacy.Adam(schedule),
                loss=loss_fns, metrics=_metrics())


def steps_per_epoch(hp: Dict[str, Any], num_train_examples: int,
                    num_replicas: int = 1) -> int:
  """Steps in one epoch: the configured cap, else one pass over train."""
  if hp['steps_per_epoch']:
    return int(hp['steps_per_epoch'])
  return max(1, math.ceil(num_train_examples /
                          (hp['batch_size'] * num_replicas)))


def _callbacks(hp: Dict[str, Any], log_dir: str, steps: int,
               global_batch: int) -> List[tf_keras.callbacks.Callback]:
  return [
      tf_keras.callbacks.EarlyStopping(
          monitor='val_loss', patience=hp['early_stopping_patience'],
          restore_best_weights=True, verbose=1),
      tf_keras.callbacks.TensorBoard(log_dir=log_dir, update_freq='epoch'),
      progress.StepProgress(steps, global_batch),
  ]


def _balancing(hp: Dict[str, Any], cohorts: losses.CohortCounts
               ) -> Tuple[Optional[Dict[Any, float]], Optional[Dict[Any, float]],
                          int]:
  """(resampling rates, cohort sample weights, examples per epoch)."""
  rates = weights = None
  epoch_examples = cohorts.num_examples
  if hp['resample'] != 'none':
    rates = cohorts.resample_rates(hp['resample'])
    epoch_examples = len(rates) * cohorts.resample_target(hp['resample'])
    logging.info('Trainer: %s to %d examples per cohort, %d per epoch',
                 hp['resample'], cohorts.resample_target(hp['resample']),
                 epoch_examples)
  if hp['loss'] == 'cohort_weighted_bce':
    weights = cohorts.weights()
  return rates, weights, epoch_examples


def train(hp: Dict[str, Any], train_files: List[str], eval_files: List[str],
          tf_transform_output: tft.TFTransformOutput,
          class_weights: Dict[str, losses.ClassWeights], log_dir: str,
          strategy: Optional[tf.distribute.Strategy] = None,
          cohorts: Optional[losses.CohortCounts] = None,
          start_from: Optional[str] = None) -> tf_keras.Model:
  """Builds, compiles and fits the network; returns it with its best weights.

  With `start_from` (a served SavedModel, see models.warm_start) the network
  starts from its weights and is fine-tuned whole, at the fine-tuning rate.
  """
  strategy = strategy or tf.distribute.get_strategy()
  loss_fns = losses.make_losses(hp['loss'], class_weights)
  tft_layer = tf_transform_output.transform_features_layer()
  global_batch = hp['batch_size'] * strategy.num_replicas_in_sync

  # Every label vocabulary counts the whole training split.
  num_train = next(iter(class_weights.values())).num_examples
  cohorts = cohorts or losses.cohort_counts_from_transform(tf_transform_output)
  rates, weights, epoch_examples = _balancing(hp, cohorts)
  steps = steps_per_epoch(hp, epoch_examples, strategy.num_replicas_in_sync)
  cache = (input_pipeline.pixel_bytes(num_train, hp['image_size']) <=
           hp['max_cached_pixel_bytes'])
  logging.info('Trainer: %d training examples, %s', num_train,
               'decoded once and cached in memory' if cache else
               'decoded in every epoch (too large to cache)')
  train_ds = input_pipeline.make_dataset(
      train_files, tft_layer, global_batch, training=True,
      shuffle_buffer=num_train if cache else hp['shuffle_buffer'],
      seed=hp.get('seed'), repeat=bool(hp['steps_per_epoch']),
      cache_in_memory=cache, resample_rates=rates, cohort_weights=weights)
  # A resampled stream repeats: its epoch is a number of steps.
  fit_steps = steps if rates is not None else hp['steps_per_epoch']
  # The eval split is at most as large as train (CelebA's is an eighth).
  # Validation is weighted like training, so early stopping watches the
  # objective being trained.
  eval_ds = input_pipeline.make_dataset(
      eval_files, tft_layer, global_batch, training=False,
      cache_in_memory=cache, max_examples=hp['max_eval_examples'],
      cohort_weights=weights)
  callbacks = _callbacks(hp, log_dir, steps, global_batch)
  pretrained = hp['weights'] not in ('none', '', None) and not start_from
  with strategy.scope():
    model = network.build_network(
        image_size=hp['image_size'], alpha=hp['alpha'],
        weights='none' if start_from else hp['weights'],
        dropout=hp['dropout'],
        batch_norm_momentum=hp['batch_norm_momentum'],
        augment=hp['augment'], seed=hp.get('seed'))
    if start_from:
      warm_start.load_served_weights(model, start_from)
    epoch = 0
    if pretrained and hp['frozen_epochs'] > 0:
      network.backbone_of(model).trainable = False
      _compile(model, hp['learning_rate'], steps * hp['frozen_epochs'],
               loss_fns)
      logging.info('Training the heads on a frozen backbone for %d epochs.',
                   hp['frozen_epochs'])
      model.fit(train_ds, validation_data=eval_ds, epochs=hp['frozen_epochs'],
                steps_per_epoch=fit_steps, callbacks=callbacks,
                verbose=2)
      epoch = hp['frozen_epochs']
      network.backbone_of(model).trainable = True
    _compile(
        model,
        (hp['fine_tune_learning_rate'] if pretrained or start_from else
         hp['learning_rate']),
        steps * hp['epochs'], loss_fns)
    model.fit(train_ds, validation_data=eval_ds,
              initial_epoch=epoch, epochs=epoch + hp['epochs'],
              steps_per_epoch=fit_steps, callbacks=callbacks,
              verbose=2)
  return model


def run_fn(fn_args) -> None:
  """TFX Trainer entry point (`Trainer(run_fn='models.model.run_fn')`)."""
  hp = dict(fn_args.custom_config[MODEL_CONFIG_KEY])
  tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
  class_weights = losses.class_weights_from_transform(tf_transform_output)
  cohorts = losses.cohort_counts_from_transform(tf_transform_output)
  for label, weights in class_weights.items():
    logging.info('%s: positive rate %.3f in train, weights +%.3f / -%.3f (%s)',
                 label, weights.positive_rate, weights.positive_weight,
                 weights.negative_weight, hp['loss'])

  if hp.get('seed') is not None:
    # Seeds alone are not enough: multi-threaded CPU kernels sum in varying
    # order, and a from-scratch model amplifies those last bits into different
    # cohort accuracies. Deterministic kernels make a rerun the same model.
    tf_keras.utils.set_random_seed(hp['seed'])
    tf.config.experimental.enable_op_determinism()
  policy = distribution.configure_precision(hp['mixed_precision'])
  strategy = distribution.make_strategy(hp['distribution_strategy'])
  start_from = None
  if hp['warm_start']:
    start_from = warm_start.served_model_path(fn_args.base_model)
    if start_from is None:
      logging.warning('Warm start: no model is being served, so training '
                      'starts from %s as without --warm_start.',
                      'scratch' if hp['weights'] == 'none' else hp['weights'])
  run_record.write(fn_args.model_run_dir,
                   {**hp, 'warm_started_from': start_from}, class_weights,
                   policy, cohorts)

  model = train(hp, fn_args.train_files, fn_args.eval_files,
                tf_transform_output, class_weights,
                log_dir=os.path.join(fn_args.model_run_dir, 'logs'),
                strategy=strategy, cohorts=cohorts, start_from=start_from)
  signatures.export(model, tf_transform_output.transform_features_layer(),
                    hp['image_size'],
                    _export_dir(fn_args.serving_model_dir, strategy))


def _export_dir(serving_model_dir: str, strategy: tf.distribute.Strategy
                ) -> str:
  """Only the chief of a multi-worker cluster writes the real export."""
  resolver = getattr(strategy, 'cluster_resolver', None)
  if resolver is None or not resolver.task_type or resolver.task_type in (
      'chief', 'master') or (resolver.task_type == 'worker' and
                             resolver.task_id == 0 and
                             'chief' not in resolver.cluster_spec().jobs):
    return serving_model_dir
  return os.path.join(serving_model_dir, '..', 'workers',
                      f'{resolver.task_type}-{resolver.task_id}')
