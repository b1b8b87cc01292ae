"""The Evaluator's cross-entropy counts every example once, however Beam merges."""

import numpy as np
import pytest
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.metrics import cross_entropy_metrics
from tensorflow_model_analysis.metrics import metric_specs
from tensorflow_model_analysis.metrics import metric_types

from components import tfma_metrics
from components.contracts import metric_names
from pipeline import configs
from pipeline import eval_config

# (label, prediction) per example, in three accumulators as Beam might build.
_PARTS = [[(1, 0.8), (0, 0.3)], [(1, 0.6)], [(0, 0.1), (0, 0.5), (1, 0.9)]]


def _pooled_cross_entropy() -> float:
  pairs = [pair for part in _PARTS for pair in part]
  return float(np.mean([-np.log(p) if label else -np.log(1 - p)
                        for label, p in pairs]))


def _merged(metric: metric_types.Metric):
  (computation,) = metric.computations(
      eval_config=tfma.EvalConfig(
          model_specs=[tfma.ModelSpec(label_key='label')]),
      model_names=[''], output_names=[''])
  combiner = computation.combiner
  accumulators = []
  for part in _PARTS:
    accumulator = combiner.create_accumulator()
    for label, prediction in part:
      accumulator = combiner.add_input(
          accumulator, metric_types.StandardMetricInputs(
              labels=np.array([float(label)]),
              predictions=np.array([prediction]),
              example_weights=np.array([1.0])))
    accumulators.append(accumulator)
  (key, value), = combiner.extract_output(
      combiner.merge_accumulators(accumulators)).items()
  return key, float(value), accumulators


def test_merging_a_list_of_accumulators_gives_the_pooled_mean():
  key, value, accumulators = _merged(
      tfma_metrics.MergeSafeBinaryCrossEntropy())
  assert key.name == metric_names.CROSS_ENTROPY
  assert value == pytest.approx(_pooled_cross_entropy(), rel=1e-12)
  # The inputs are left as they were: the jackknife merges them again.
  assert [a.total_example_weights for a in accumulators] == [2.0, 1.0, 3.0]


def test_tfmas_own_combiner_counts_the_first_accumulator_twice():
  """Why the module exists; when this fails, TFMA's merge has been fixed."""
  _, value, _ = _merged(cross_entropy_metrics.BinaryCrossEntropy())
  assert value != pytest.approx(_pooled_cross_entropy(), rel=1e-6)


def test_the_eval_config_resolves_to_the_merge_safe_metric():
  config = eval_config.make_eval_config(configs.SAMPLE)
  for spec in config.metrics_specs:
    (cross_entropy,) = [m for m in spec.metrics
                        if m.class_name.endswith('BinaryCrossEntropy')]
    metric = metric_specs.metric_instance(cross_entropy)
    assert isinstance(metric, tfma_metrics.MergeSafeBinaryCrossEntropy)
    assert metric.name == metric_names.CROSS_ENTROPY
