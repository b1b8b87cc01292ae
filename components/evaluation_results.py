"""The Evaluator's output as plain Python: metrics per slice, model and output.

TFMA writes metrics, plots and the validation result as protos. The console
summary, the slice report and the tests all read them through here, so there is
one interpretation of slice keys, model names and confusion counts, and no
metric is recomputed: every number is the one TFMA computed.
"""

import dataclasses
import math
import os
from typing import Dict, List, Optional, Tuple

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

import tensorflow as tf  # pylint: disable=g-import-not-at-top
import tensorflow_model_analysis as tfma  # pylint: disable=g-import-not-at-top

from models import features
from pipeline import eval_config

CANDIDATE = 'candidate'
BASELINE = 'baseline'

# A slice as sorted (feature, value) pairs; () is the overall slice.
SliceKey = Tuple[Tuple[str, int], ...]
OVERALL: SliceKey = ()


def cohort_key(male: int, young: int) -> SliceKey:
  return ((features.MALE_KEY, male), (features.YOUNG_KEY, young))


def slice_name(key: SliceKey) -> str:
  """'Overall', 'Male', 'Non-Young', 'Non-Young x Male', ..."""
  if not key:
    return 'Overall'
  values = dict(key)
  if len(values) == 2 and set(values) == set(features.LABEL_KEYS):
    return features.cohort_name(values[features.MALE_KEY],
                                values[features.YOUNG_KEY])
  return ' x '.join(features.VALUE_NAMES.get(k, {}).get(v, f'{k}={v}')
                    for k, v in key)


@dataclasses.dataclass
class Confusion:
  """Confusion counts at the decision threshold."""
  tp: float = 0.0
  fp: float = 0.0
  tn: float = 0.0
  fn: float = 0.0


@dataclasses.dataclass
class OutputMetrics:
  """Every metric of one output on one slice for one model."""
  values: Dict[str, float] = dataclasses.field(default_factory=dict)
  confusion: Confusion = dataclasses.field(default_factory=Confusion)
  diffs: Dict[str, float] = dataclasses.field(default_factory=dict)
  # With a baseline, TFMA also writes the change of each count (candidate
  # minus baseline); kept apart so it never stands in for the counts.
  confusion_diff: Optional[Confusion] = None

  def get(self, name: str) -> float:
    return self.values.get(name, math.nan)


@dataclasses.dataclass
class ValidationFailure:
  slice_key: SliceKey
  output: str
  metric: str
  value: float
  threshold: str
  is_diff: bool = False  # the change against the baseline failed, not the value


@dataclasses.dataclass
class Evaluation:
  """Metrics of one Evaluator run: [model][slice][output] -> OutputMetrics."""
  metrics: Dict[str, Dict[SliceKey, Dict[str, OutputMetrics]]]
  validation_ok: Optional[bool]
  failures: List[ValidationFailure]

  @property
  def models(self) -> List[str]:
    return sorted(self.metrics, key=lambda m: (m != CANDIDATE, m))

  @property
  def has_baseline(self) -> bool:
    return BASELINE in self.metrics

  def candidate(self) -> Dict[SliceKey, Dict[str, OutputMetrics]]:
    return self.metrics.get(CANDIDATE) or self.metrics[self.models[0]]

  def baseline(self) -> Optional[Dict[SliceKey, Dict[str, OutputMetrics]]]:
    return self.metrics.get(BASELINE)

  def slices(self) -> List[SliceKey]:
    return sorted(self.candidate(), key=lambda k: (len(k), k))

  def cohorts(self) -> List[SliceKey]:
    return [cohort_key(m, y) for m, y in features.COHORTS
            if cohort_key(m, y) in self.candidate()]

  def worst_cohort(self, output: str,
                   metric: str = eval_config.ACCURACY) -> Optional[SliceKey]:
    """The cohort with the lowest `metric` for `output` (candidate model)."""
    scored = [(self.candidate()[k][output].get(metric), k)
              for k in self.cohorts() if output in self.candidate()[k]]
    scored = [(v, k) for v, k in scored if not math.isnan(v)]
    return min(scored)[1] if scored else None


def _slice_key(proto) -> SliceKey:
  pairs = []
  for single in proto.single_slice_keys:
    kind = single.WhichOneof('kind')
    value = getattr(single, kind)
    if isinstance(value, bytes):
      value = value.decode()
    if isinstance(value, float) and value.is_integer():
      value = int(value)
    pairs.append((single.column, int(value) if isinstance(value, str)
                  and value.lstrip('-').isdigit() else value))
  return tuple(sorted(pairs))


def _double(value) -> float:
  # proto3: an empty DoubleValue is 0.0; undefined ratios are explicit NaNs.
  if value.HasField('double_value'):
    return value.double_value.value
  return math.nan


def _undefined_auc_to_nan(entry: OutputMetrics) -> None:
  """TFMA writes AUC = 0.0 on a slice with one label value; it is undefined."""
  c = entry.confusion
  if eval_config.AUC in entry.values and (c.tp + c.fn == 0 or
                                          c.tn + c.fp == 0):
    entry.values[eval_config.AUC] = math.nan


def load_evaluation(evaluation_uri: str) -> Evaluation:
  """Reads the metrics and validation result of an Evaluator output folder."""
  metrics: Dict[str, Dict[SliceKey, Dict[str, OutputMetrics]]] = {}
  for per_slice in tfma.load_metrics(evaluation_uri):
    key = _slice_key(per_slice.slice_key)
    for kv in per_slice.metric_keys_and_values:
      model = kv.key.model_name or CANDIDATE
      output = kv.key.output_name
      entry = metrics.setdefault(model, {}).setdefault(key, {}).setdefault(
          output, OutputMetrics())
      if kv.value.HasField('confusion_matrix_at_thresholds'):
        matrix = kv.value.confusion_matrix_at_thresholds.matrices[0]
        counts = Confusion(
            tp=matrix.true_positives, fp=matrix.false_positives,
            tn=matrix.true_negatives, fn=matrix.false_negatives)
        if kv.key.is_diff:
          entry.confusion_diff = counts
        else:
          entry.confusion = counts
      elif kv.key.is_diff:
        entry.diffs[kv.key.name] = _double(kv.value)
      else:
        entry.values[kv.key.name] = _double(kv.value)
  for by_slice in metrics.values():
    for by_output in by_slice.values():
      for entry in by_output.values():
        _undefined_auc_to_nan(entry)
  validation_ok, failures = None, []
  # tf.io.gfile, not os: on Kubeflow the folder is in object storage (gs://).
  if any(name.startswith('validations')
         for name in tf.io.gfile.listdir(evaluation_uri)):
    result = tfma.load_validation_result(evaluation_uri)
    validation_ok = result.validation_ok
    for per_slice in result.metric_validations_per_slice:
      key = _slice_key(per_slice.slice_key)
      for failure in per_slice.failures:
        failures.append(ValidationFailure(
            slice_key=key, output=failure.metric_key.output_name,
            metric=failure.metric_key.name,
            value=_double(failure.metric_value),
            threshold=_threshold_text(failure.metric_threshold),
            is_diff=failure.metric_key.is_diff))
  return Evaluation(metrics=metrics, validation_ok=validation_ok,
                    failures=failures)


def _threshold_text(threshold) -> str:
  parts = []
  if threshold.HasField('value_threshold'):
    v = threshold.value_threshold
    if v.HasField('lower_bound'):
      parts.append(f'>= {v.lower_bound.value:g}')
    if v.HasField('upper_bound'):
      parts.append(f'<= {v.upper_bound.value:g}')
  if threshold.HasField('change_threshold'):
    c = threshold.change_threshold
    if c.HasField('absolute'):
      parts.append(f'change vs baseline >= {c.absolute.value:+g}')
    if c.HasField('relative'):
      parts.append(f'relative change vs baseline >= {c.relative.value:+g}')
  return ', '.join(parts)
