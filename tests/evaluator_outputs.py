"""Made-up Evaluator outputs: the files TFMA writes, from made-up predictions.

Unit tests of the evaluation reader, the slice report and the model card need
an Evaluator output folder without running the Evaluator (tens of seconds).
This writes one: `metrics-00000-of-00001.tfrecord` of MetricsForSlice protos,
`validations.tfrecord` and `eval_config.json`, in TFMA's own formats, with
values computed here from made-up labels and probabilities the way TFMA
defines them (a probability above the threshold is positive), and made-up
intervals shaped like the jackknife's: unclipped, zero-width where a slice
has no spread, NaN where the value is undefined.
"""

import dataclasses
import math
import os
from typing import Dict, Mapping, Optional, Sequence

import numpy as np
from sklearn import metrics as sk_metrics
import tensorflow as tf
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.proto import metrics_for_slice_pb2 as mfs
from tensorflow_model_analysis.proto import validation_result_pb2
from tensorflow_model_analysis.writers import eval_config_writer

from components.contracts import evaluation as er
from components.contracts import metric_names
from models import features
from pipeline import configs
from pipeline import eval_config as eval_config_lib

# Slices of the pipeline's eval config: overall, per label, per cohort.
SLICES = ((er.OVERALL,) +
          tuple(((k, v),) for k in features.LABEL_KEYS for v in (0, 1)) +
          tuple(er.cohort_key(m, y) for m, y in features.COHORTS))


@dataclasses.dataclass
class FakeData:
  """Labels and predicted probabilities of made-up test faces."""
  labels: Dict[str, np.ndarray]
  probabilities: Dict[str, np.ndarray]

  def mask(self, slice_key: er.SliceKey) -> np.ndarray:
    keep = np.ones(len(self.labels[features.MALE_KEY]), bool)
    for feature, value in slice_key:
      keep &= self.labels[feature] == value
    return keep


def fake_data(n: int = 300, seed: int = 0) -> FakeData:
  """CelebA-like label rates (42% Male, 77% Young), a decent model."""
  rng = np.random.default_rng(seed)
  labels = {features.MALE_KEY: (rng.random(n) < 0.42).astype(int),
            features.YOUNG_KEY: (rng.random(n) < 0.77).astype(int)}
  probabilities = {}
  for output, skill in ((features.MALE_KEY, 3.0), (features.YOUNG_KEY, 1.6)):
    logits = (2 * labels[output] - 1) * skill + rng.normal(0, 1.5, n)
    probabilities[output] = 1 / (1 + np.exp(-logits))
  return FakeData(labels, probabilities)


def _ratio(a: float, b: float) -> float:
  return a / b if b else math.nan


def _rates(truth: np.ndarray, p: np.ndarray, threshold: float
           ) -> Dict[str, float]:
  positive = p > threshold
  tp = float(np.sum(positive & (truth == 1)))
  fp = float(np.sum(positive & (truth == 0)))
  tn = float(np.sum(~positive & (truth == 0)))
  fn = float(np.sum(~positive & (truth == 1)))
  return {'tp': tp, 'fp': fp, 'tn': tn, 'fn': fn,
          metric_names.ACCURACY: _ratio(tp + tn, tp + fp + tn + fn),
          metric_names.PRECISION: _ratio(tp, tp + fp),
          metric_names.RECALL: _ratio(tp, tp + fn),
          metric_names.FALSE_POSITIVE_RATE: _ratio(fp, fp + tn),
          metric_names.FALSE_NEGATIVE_RATE: _ratio(fn, fn + tp),
          metric_names.FALSE_DISCOVERY_RATE: _ratio(fp, fp + tp),
          metric_names.FALSE_OMISSION_RATE: _ratio(fn, fn + tn)}


def _interval(value: float, n: int, rng: np.random.Generator,
              half: Optional[float] = None) -> er.Interval:
  """Jackknife-like: symmetric around a jittered centre, unclipped, and of
  zero width for a rate of 0 or 1 (no spread among the samples)."""
  if math.isnan(value):
    return er.Interval(math.nan, math.nan)
  if half is None:
    half = 2.09 * math.sqrt(max(value * (1 - value), 0.0) / max(n, 1))
  centre = value + rng.normal(0, half / 10) if half else value
  return er.Interval(centre - half, centre + half)


def metrics_of(data: FakeData, rate_thresholds: Sequence[float] = (
    configs.DEFAULT_RATE_THRESHOLDS), intervals: bool = True, seed: int = 0
               ) -> Dict[er.SliceKey, Dict[str, er.OutputMetrics]]:
  """Every metric of the pipeline's eval config, per slice and output."""
  rng = np.random.default_rng([seed, 1])
  result = {}
  for key in SLICES:
    keep = data.mask(key)
    n = int(keep.sum())
    result[key] = {}
    for output in features.LABEL_KEYS:
      truth = data.labels[output][keep]
      p = data.probabilities[output][keep]
      at_half = _rates(truth, p, metric_names.DECISION_THRESHOLD)
      values = {k: v for k, v in at_half.items() if k not in (
          'tp', 'fp', 'tn', 'fn')}
      values[metric_names.EXAMPLE_COUNT] = float(n)
      values[metric_names.CROSS_ENTROPY] = float(np.mean(
          -(truth * np.log(p) + (1 - truth) * np.log(1 - p))))
      two_labels = len(set(truth.tolist())) == 2
      # TFMA writes AUC 0.0 on a slice with one label value.
      values[metric_names.AUC] = (float(sk_metrics.roc_auc_score(truth, p))
                                  if two_labels else 0.0)
      entry = er.OutputMetrics(values=values, confusion=er.Confusion(
          tp=at_half['tp'], fp=at_half['fp'], tn=at_half['tn'],
          fn=at_half['fn']))
      sweeps = [_rates(truth, p, t) for t in rate_thresholds]
      for name, rate in ((metric_names.FALSE_POSITIVE_RATE_SWEEP,
                          metric_names.FALSE_POSITIVE_RATE),
                         (metric_names.FALSE_NEGATIVE_RATE_SWEEP,
                          metric_names.FALSE_NEGATIVE_RATE)):
        entry.arrays[name] = tuple(s[rate] for s in sweeps)
        if intervals:
          entry.array_intervals[name] = tuple(
              _interval(s[rate], n, rng) for s in sweeps)
      if intervals:
        for name, value in values.items():
          if name == metric_names.EXAMPLE_COUNT:
            continue
          if name == metric_names.AUC:
            entry.intervals[name] = (_interval(value, n, rng, 0.02)
                                     if two_labels else er.Interval(0, 0))
          elif name == metric_names.CROSS_ENTROPY:
            entry.intervals[name] = _interval(value, n, rng, 0.05)
          else:
            entry.intervals[name] = _interval(value, n, rng)
      result[key][output] = entry
  return result


# ------------------------------------------------------------ the files


def _slice_proto(key: er.SliceKey) -> mfs.SliceKey:
  return mfs.SliceKey(single_slice_keys=[
      mfs.SingleSliceKey(column=column, int64_value=int(value))
      for column, value in key])


def _double(value: float) -> mfs.MetricValue:
  return mfs.MetricValue(double_value={'value': value})


def _array(values: Sequence[float]) -> mfs.MetricValue:
  return mfs.MetricValue(array_value=mfs.ArrayValue(
      data_type=mfs.ArrayValue.FLOAT64, shape=[len(values)],
      float64_values=list(values)))


def _key(name: str, output: str, model: str) -> mfs.MetricKey:
  return mfs.MetricKey(name=name, output_name=output, model_name=model,
                       example_weighted={})


def _entries(entry: er.OutputMetrics, output: str, model: str):
  for name, value in entry.values.items():
    kv = mfs.MetricsForSlice.MetricKeyAndValue(key=_key(name, output, model),
                               value=_double(value))
    interval = entry.intervals.get(name)
    if interval is not None:
      kv.confidence_interval.lower_bound.CopyFrom(_double(interval.lower))
      kv.confidence_interval.upper_bound.CopyFrom(_double(interval.upper))
      kv.confidence_interval.degrees_of_freedom.value = 19
    yield kv
  for name, values in entry.arrays.items():
    kv = mfs.MetricsForSlice.MetricKeyAndValue(key=_key(name, output, model),
                               value=_array(values))
    intervals = entry.array_intervals.get(name)
    if intervals is not None:
      kv.confidence_interval.lower_bound.CopyFrom(
          _array([i.lower for i in intervals]))
      kv.confidence_interval.upper_bound.CopyFrom(
          _array([i.upper for i in intervals]))
    yield kv
  c = entry.confusion
  yield mfs.MetricsForSlice.MetricKeyAndValue(
      key=_key(metric_names.CONFUSION_MATRIX, output, model),
      value=mfs.MetricValue(confusion_matrix_at_thresholds={'matrices': [{
          'threshold': metric_names.DECISION_THRESHOLD,
          'true_positives': c.tp, 'false_positives': c.fp,
          'true_negatives': c.tn, 'false_negatives': c.fn}]}))


def write_evaluation(
    folder: str,
    metrics: Mapping[str, Mapping[er.SliceKey, Mapping[str,
                                                       er.OutputMetrics]]],
    eval_config: Optional[tfma.EvalConfig] = None,
    validation_ok: bool = True,
    interval_errors: Optional[Mapping[er.SliceKey, str]] = None,
    model_locations: Optional[Mapping[str, str]] = None) -> str:
  """Writes an Evaluator output folder for `metrics` (model -> slice -> ...).

  The candidate alone is written under TFMA's model name '' (as the
  Evaluator does without a baseline); with a baseline both keep their names.
  """
  os.makedirs(folder, exist_ok=True)
  eval_config = eval_config or eval_config_lib.make_eval_config(
      configs.SAMPLE)
  single = set(metrics) == {er.CANDIDATE}
  with tf.io.TFRecordWriter(
      os.path.join(folder, 'metrics-00000-of-00001.tfrecord')) as writer:
    for key in SLICES:
      per_slice = mfs.MetricsForSlice(slice_key=_slice_proto(key))
      for model, by_slice in metrics.items():
        if key not in by_slice:
          continue
        for output, entry in by_slice[key].items():
          per_slice.metric_keys_and_values.extend(
              _entries(entry, output, '' if single else model))
      error = (interval_errors or {}).get(key)
      if error:
        per_slice.metric_keys_and_values.add(
            key=mfs.MetricKey(name=metric_names.INTERVAL_ERROR),
            value=mfs.MetricValue(bytes_value=error.encode()))
      writer.write(per_slice.SerializeToString())
  with tf.io.TFRecordWriter(os.path.join(folder,
                                         'validations.tfrecord')) as writer:
    writer.write(validation_result_pb2.ValidationResult(
        validation_ok=validation_ok).SerializeToString())
  locations = dict(model_locations or {'': '/models/candidate'})
  with open(os.path.join(folder, 'eval_config.json'), 'w') as f:
    f.write(eval_config_writer._serialize_eval_run(  # pylint: disable=protected-access
        eval_config, 'data', 'tfrecords', locations))
  return folder
