"""The Evaluator's output read back: values, intervals, sweeps, thresholds.

Runs on made-up Evaluator outputs written in TFMA's own file formats
(tests/evaluator_outputs.py), so the reader's rules are pinned in seconds;
test_report_e2e.py and test_model_card_e2e.py read real ones.
"""

import dataclasses
import math
import os

import pytest
import tensorflow as tf
from tensorflow_model_analysis.proto import metrics_for_slice_pb2 as mfs

from components.contracts import evaluation as er
from components.contracts import metric_names
from models import features
from pipeline import configs
from pipeline import eval_config
from tests import evaluator_outputs


def _same(a: float, b: float) -> bool:
  return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.fixture(scope='module')
def written(tmp_path_factory):
  metrics = evaluator_outputs.metrics_of(evaluator_outputs.fake_data())
  folder = evaluator_outputs.write_evaluation(
      str(tmp_path_factory.mktemp('evaluation')), {er.CANDIDATE: metrics},
      interval_errors={er.cohort_key(1, 0): 'CI not computed because only '
                                             '19 samples were non-empty.'})
  return metrics, er.load_evaluation(folder)


def test_values_intervals_and_sweeps_read_back_as_written(written):
  metrics, evaluation = written
  candidate = evaluation.candidate()
  assert set(candidate) == set(evaluator_outputs.SLICES)
  checked = 0
  for key, by_output in metrics.items():
    assert set(candidate[key]) == set(features.LABEL_KEYS)  # no '' output
    for output, want in by_output.items():
      got = candidate[key][output]
      assert got.confusion == want.confusion
      for name, value in want.values.items():
        if name == metric_names.AUC and math.isnan(got.get(name)):
          # TFMA's 0.0 on a one-label slice reads as undefined, interval too.
          assert value == 0.0 and not got.interval(name).finite
          continue
        assert _same(got.get(name), value), (key, output, name)
        if name in want.intervals:
          a, b = got.interval(name), want.intervals[name]
          assert _same(a.lower, b.lower) and _same(a.upper, b.upper), (
              key, output, name)
          checked += 1
      assert metric_names.EXAMPLE_COUNT not in got.intervals
      for name in metric_names.SWEEPS:
        assert all(_same(a, b) for a, b in zip(got.array(name),
                                               want.arrays[name]))
        assert len(got.array(name)) == len(configs.DEFAULT_RATE_THRESHOLDS)
        for a, b in zip(got.array_interval(name), want.array_intervals[name]):
          assert (_same(a.lower, b.lower) and _same(a.upper, b.upper))
        # The sweep never stands in for the scalar at 0.5.
        assert name not in got.values
  assert checked > 100


def test_thresholds_and_method_come_from_the_eval_config(written):
  _, evaluation = written
  assert evaluation.interval_method == 'jackknife'
  for output in features.LABEL_KEYS:
    for name in metric_names.SWEEPS:
      assert evaluation.thresholds(output, name) == (
          configs.DEFAULT_RATE_THRESHOLDS)
    assert evaluation.thresholds(output, metric_names.ACCURACY) == ()
  assert evaluation.validation_ok is True


def test_a_slice_without_intervals_is_recorded_not_read_as_a_metric(written):
  _, evaluation = written
  assert list(evaluation.interval_errors) == [er.cohort_key(1, 0)]
  assert '19 samples' in evaluation.interval_errors[er.cohort_key(1, 0)]
  for by_output in evaluation.candidate().values():
    for entry in by_output.values():
      assert metric_names.INTERVAL_ERROR not in entry.values


def test_intervals_off(tmp_path):
  metrics = evaluator_outputs.metrics_of(evaluator_outputs.fake_data(),
                                         intervals=False)
  off = dataclasses.replace(configs.SAMPLE, evaluation=dataclasses.replace(
      configs.SAMPLE.evaluation, confidence_intervals=False))
  evaluation = er.load_evaluation(evaluator_outputs.write_evaluation(
      str(tmp_path), {er.CANDIDATE: metrics},
      eval_config.make_eval_config(off)))
  assert evaluation.interval_method is None
  entry = evaluation.candidate()[er.OVERALL]['Male']
  assert entry.interval(metric_names.ACCURACY) is None
  assert entry.array_interval(metric_names.FALSE_POSITIVE_RATE_SWEEP) == (
      (None,) * len(configs.DEFAULT_RATE_THRESHOLDS))
  gap = evaluation.worst_cohort_gap('Young')
  assert gap is not None and gap.beyond_interval is None


def test_only_the_named_confusion_matrix_gives_the_counts(tmp_path):
  """Another confusion-matrix metric (e.g. over a sweep) is not the counts,
  and a cross-slice entry never overwrites a slice."""
  metrics = evaluator_outputs.metrics_of(evaluator_outputs.fake_data())
  folder = evaluator_outputs.write_evaluation(str(tmp_path),
                                              {er.CANDIDATE: metrics})
  path = os.path.join(folder, 'metrics-00000-of-00001.tfrecord')
  records = [mfs.MetricsForSlice.FromString(r.numpy())
             for r in tf.data.TFRecordDataset(path)]
  for record in records:
    record.metric_keys_and_values.add(
        key=mfs.MetricKey(name='confusion_matrix_sweep', output_name='Male'),
        value=mfs.MetricValue(confusion_matrix_at_thresholds={'matrices': [
            {'threshold': 0.1, 'true_positives': 999.0}]}))
  cross = mfs.MetricsForSlice()
  cross.cross_slice_key.baseline_slice_key.SetInParent()
  cross.cross_slice_key.comparison_slice_key.CopyFrom(
      records[-1].slice_key)
  cross.metric_keys_and_values.add(
      key=mfs.MetricKey(name=metric_names.ACCURACY, output_name='Male'),
      value=mfs.MetricValue(double_value={'value': -5.0}))
  with tf.io.TFRecordWriter(path) as writer:
    for record in records + [cross]:
      writer.write(record.SerializeToString())
  candidate = er.load_evaluation(folder).candidate()
  for key, by_output in metrics.items():
    assert candidate[key]['Male'].confusion == by_output['Male'].confusion
  assert candidate[er.OVERALL]['Male'].get(metric_names.ACCURACY) == (
      metrics[er.OVERALL]['Male'].get(metric_names.ACCURACY))


def test_the_gap_is_beyond_the_interval_only_above_its_upper_bound():
  def gap(overall, lower, upper):
    return er.CohortGap('Male', er.cohort_key(0, 0), overall, 0.9,
                        er.Interval(lower, upper))
  assert gap(0.97, 0.85, 0.95).beyond_interval is True
  assert gap(0.97, 0.85, 1.02).beyond_interval is False
  assert gap(0.97, 0.9, 0.9).beyond_interval is None  # not estimable
  assert gap(0.97, math.nan, math.nan).beyond_interval is None
  assert gap(0.97, 0.85, 0.95).gap == pytest.approx(0.07)
