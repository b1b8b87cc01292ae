"""The Evaluator's output folder as plain Python: its one reader.

TFMA writes metrics, plots, the validation result and the eval config it ran
with (eval_config.json, with the model locations) into the Evaluator's
output, and the Evaluator's executor adds which baseline it used
(baseline_record.py). The console summary, the slice report, the model card
and the tests all read them through here, once per folder, so there is one
interpretation of slice keys, model names, confusion counts, intervals and
thresholds, and no metric is recomputed: every number is the one TFMA
computed.

With confidence intervals on, each metric's value is still TFMA's point
estimate (the unsampled value, the one the blessing checks), and its interval
is kept beside it as TFMA wrote it: the bounds of a t-interval around the
mean of its jackknife samples, neither clipped to [0, 1] nor centred on the
point. Array-valued metrics (the FPR and FNR sweeps) are kept as tuples, one
value and one interval per threshold, the thresholds read from the eval
config that produced them.
"""

import dataclasses
import json
import math
from typing import Dict, List, Optional, Sequence, Tuple

import tensorflow as tf
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.writers import eval_config_writer

from components.contracts import baseline_record as record_lib
from components.contracts import metric_names
from models import features

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


# Bounds closer than this are one value written twice (float rounding of
# identical jackknife samples), not an interval.
_ZERO_WIDTH = 1e-9


@dataclasses.dataclass(frozen=True)
class Interval:
  """TFMA's 95% confidence interval of one value, exactly as written."""
  lower: float
  upper: float

  @property
  def finite(self) -> bool:
    return math.isfinite(self.lower) and math.isfinite(self.upper)

  @property
  def estimable(self) -> bool:
    """Finite and of positive width.

    A zero-width interval means every jackknife sample scored the same
    (e.g. a cohort with no errors): the spread is not estimable from the
    data, which is not the same as certainty.
    """
    return self.finite and self.upper - self.lower > _ZERO_WIDTH

  def contains(self, value: float) -> bool:
    return self.finite and self.lower <= value <= self.upper


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
  # The 95% interval of each value that has one (not example_count).
  intervals: Dict[str, Interval] = dataclasses.field(default_factory=dict)
  # Array-valued metrics (the sweeps): one value, and one interval, per
  # threshold.
  arrays: Dict[str, Tuple[float, ...]] = dataclasses.field(
      default_factory=dict)
  array_intervals: Dict[str, Tuple[Interval, ...]] = dataclasses.field(
      default_factory=dict)

  def get(self, name: str) -> float:
    return self.values.get(name, math.nan)

  def interval(self, name: str) -> Optional[Interval]:
    return self.intervals.get(name)

  def array(self, name: str) -> Tuple[float, ...]:
    return self.arrays.get(name, ())

  def array_interval(self, name: str) -> Tuple[Optional[Interval], ...]:
    values = self.arrays.get(name, ())
    return self.array_intervals.get(name, (None,) * len(values))


@dataclasses.dataclass
class ValidationFailure:
  slice_key: SliceKey
  output: str
  metric: str
  value: float
  threshold: str
  is_diff: bool = False  # the change against the baseline failed, not the value


@dataclasses.dataclass(frozen=True)
class CohortGap:
  """The worst cohort's accuracy gap to the overall accuracy of one output.

  Attributes:
    output: the output.
    cohort: the cohort with the lowest accuracy.
    overall: overall accuracy (TFMA's point value).
    value: the cohort's accuracy (TFMA's point value).
    interval: the cohort's 95% interval, if TFMA wrote one.
  """
  output: str
  cohort: SliceKey
  overall: float
  value: float
  interval: Optional[Interval]

  @property
  def gap(self) -> float:
    return self.overall - self.value

  @property
  def beyond_interval(self) -> Optional[bool]:
    """Whether the overall accuracy lies above the cohort's interval.

    That is, whether the gap is larger than the distance from the cohort's
    accuracy to its upper bound: then the cohort is worse than the model
    overall beyond what its own sampling noise explains. None when there is
    no interval to judge by (intervals off, or not estimable).
    """
    if self.interval is None or not self.interval.estimable:
      return None
    return self.overall > self.interval.upper


@dataclasses.dataclass
class Evaluation:
  """Metrics of one Evaluator run: [model][slice][output] -> OutputMetrics.

  Attributes:
    metrics: every metric TFMA wrote, by model name, slice and output.
    validation_ok: TFMA's verdict; None when no validation result was written.
    failures: the thresholds that failed, per slice.
    eval_config: the EvalConfig the Evaluator ran with (its eval_config.json:
      the Evaluator drops change thresholds from it when there is no
      baseline, so it is exactly what was checked); None if absent.
    model_locations: model name -> model path, as the Evaluator recorded them.
    interval_errors: slice -> why TFMA wrote no intervals there (its
      '__ERROR__' value, e.g. a jackknife bucket without examples of the
      slice); those slices keep their point values.
    baseline_record: which baseline the candidate was judged against, or why
      there was none (baseline.json, components.baseline.evaluator); None
      for an Evaluator that does not write it.
  """
  metrics: Dict[str, Dict[SliceKey, Dict[str, OutputMetrics]]]
  validation_ok: Optional[bool]
  failures: List[ValidationFailure]
  eval_config: Optional[tfma.EvalConfig] = None
  model_locations: Dict[str, str] = dataclasses.field(default_factory=dict)
  interval_errors: Dict[SliceKey, str] = dataclasses.field(
      default_factory=dict)

  @property
  def interval_method(self) -> Optional[str]:
    """'jackknife' or 'poisson bootstrap' when TFMA computed intervals."""
    return interval_method(self.eval_config)

  def thresholds(self, output: str, metric: str) -> Tuple[float, ...]:
    """The thresholds of an array-valued metric, as the eval config set them."""
    return metric_thresholds(self.eval_config, output, metric)
  baseline_record: Optional[record_lib.BaselineRecord] = None

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
                   metric: str = metric_names.ACCURACY) -> Optional[SliceKey]:
    """The cohort with the lowest `metric` for `output` (candidate model)."""
    scored = [(self.candidate()[k][output].get(metric), k)
              for k in self.cohorts() if output in self.candidate()[k]]
    scored = [(v, k) for v, k in scored if not math.isnan(v)]
    return min(scored)[1] if scored else None

  def worst_cohort_gap(self, output: str) -> Optional[CohortGap]:
    """The worst cohort by accuracy against overall, with its interval."""
    worst = self.worst_cohort(output)
    if worst is None or output not in self.candidate().get(OVERALL, {}):
      return None
    cohort = self.candidate()[worst][output]
    return CohortGap(
        output=output, cohort=worst,
        overall=self.candidate()[OVERALL][output].get(metric_names.ACCURACY),
        value=cohort.get(metric_names.ACCURACY),
        interval=cohort.interval(metric_names.ACCURACY))


def interval_method(config: Optional[tfma.EvalConfig]) -> Optional[str]:
  """The interval method an EvalConfig asks for, None when intervals are off.

  TFMA uses the jackknife when the method is left unset.
  """
  if config is None or not config.options.compute_confidence_intervals.value:
    return None
  method = config.options.confidence_intervals.method
  if method == tfma.ConfidenceIntervalOptions.POISSON_BOOTSTRAP:
    return 'poisson bootstrap'
  return 'jackknife'


def metric_thresholds(config: Optional[tfma.EvalConfig], output: str,
                      metric: str) -> Tuple[float, ...]:
  """The `thresholds` of the metric named `metric` for `output` (or ())."""
  if config is None:
    return ()
  for spec in config.metrics_specs:
    if spec.output_names and output not in spec.output_names:
      continue
    for metric_config in spec.metrics:
      options = json.loads(metric_config.config or '{}')
      if options.get('name') == metric:
        return tuple(float(t) for t in options.get('thresholds', ()))
  return ()


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


def _array(value) -> Tuple[float, ...]:
  return tuple(float(v) for v in value.array_value.float64_values)


def _intervals(lower: Sequence[float], upper: Sequence[float]
               ) -> Tuple[Interval, ...]:
  return tuple(Interval(lo, hi) for lo, hi in zip(lower, upper))


def _read_value(entry: OutputMetrics, kv) -> None:
  """One non-diff metric (and its interval) into `entry`."""
  name = kv.key.name
  has_interval = kv.HasField('confidence_interval')
  bounds = kv.confidence_interval
  if kv.value.HasField('array_value'):
    entry.arrays[name] = _array(kv.value)
    if has_interval:
      entry.array_intervals[name] = _intervals(_array(bounds.lower_bound),
                                               _array(bounds.upper_bound))
    return
  entry.values[name] = _double(kv.value)
  if has_interval:
    entry.intervals[name] = Interval(_double(bounds.lower_bound),
                                     _double(bounds.upper_bound))


def _undefined_auc_to_nan(entry: OutputMetrics) -> None:
  """TFMA writes AUC = 0.0 (interval [0, 0]) on a slice with one label
  value; it is undefined."""
  c = entry.confusion
  if metric_names.AUC in entry.values and (c.tp + c.fn == 0 or
                                          c.tn + c.fp == 0):
    entry.values[metric_names.AUC] = math.nan
    if metric_names.AUC in entry.intervals:
      entry.intervals[metric_names.AUC] = Interval(math.nan, math.nan)


def load_evaluation(evaluation_uri: str) -> Evaluation:
  """Reads the metrics and validation result of an Evaluator output folder."""
  metrics: Dict[str, Dict[SliceKey, Dict[str, OutputMetrics]]] = {}
  interval_errors: Dict[SliceKey, str] = {}
  for per_slice in tfma.load_metrics(evaluation_uri):
    if per_slice.HasField('cross_slice_key'):
      continue  # no cross-slice specs here; never let one pass for a slice
    key = _slice_key(per_slice.slice_key)
    for kv in per_slice.metric_keys_and_values:
      if kv.key.name == metric_names.INTERVAL_ERROR:
        interval_errors[key] = kv.value.bytes_value.decode(errors='replace')
        continue
      model = kv.key.model_name or CANDIDATE
      output = kv.key.output_name
      entry = metrics.setdefault(model, {}).setdefault(key, {}).setdefault(
          output, OutputMetrics())
      if kv.key.name == metric_names.CONFUSION_MATRIX:
        matrix = kv.value.confusion_matrix_at_thresholds.matrices[0]
        counts = Confusion(
            tp=matrix.true_positives, fp=matrix.false_positives,
            tn=matrix.true_negatives, fn=matrix.false_negatives)
        if kv.key.is_diff:
          entry.confusion_diff = counts
        else:
          entry.confusion = counts
      elif kv.value.HasField('confusion_matrix_at_thresholds'):
        continue  # another confusion matrix; the counts are the one above
      elif kv.key.is_diff:
        if not kv.value.HasField('array_value'):
          entry.diffs[kv.key.name] = _double(kv.value)
      else:
        _read_value(entry, kv)
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
            threshold=threshold_proto_text(failure.metric_threshold),
            is_diff=failure.metric_key.is_diff))
  config, locations = load_eval_run(evaluation_uri)
  return Evaluation(metrics=metrics, validation_ok=validation_ok,
                    failures=failures, eval_config=config,
                    model_locations=locations,
                    interval_errors=interval_errors,
                    baseline_record=record_lib.read(evaluation_uri))


def load_eval_run(evaluation_uri: str
                  ) -> Tuple[Optional[tfma.EvalConfig], Dict[str, str]]:
  """The EvalConfig and model locations the Evaluator recorded (or None, {})."""
  config, _, _, locations = eval_config_writer.load_eval_run(evaluation_uri)
  return config, dict(locations or {})


@dataclasses.dataclass(frozen=True)
class Bounds:
  """One threshold's bounds: a value range, or a change against the baseline."""
  lower: Optional[float]
  upper: Optional[float]
  is_change: bool
  relative: bool = False

  @property
  def text(self) -> str:
    """'>= 0.85', or 'change vs baseline >= -0.03' for a change threshold."""
    what = ('relative change vs baseline' if self.relative else
            'change vs baseline') if self.is_change else ''
    parts = []
    for op, bound in (('>=', self.lower), ('<=', self.upper)):
      if bound is None:
        continue
      parts.append(f'{what} {op} {bound:+g}' if self.is_change else
                   f'{op} {bound:g}')
    return ', '.join(parts)


def bounds_of(threshold) -> Bounds:
  """The bounds of a GenericValueThreshold or GenericChangeThreshold."""
  if isinstance(threshold, tfma.GenericValueThreshold):
    return Bounds(
        lower=(threshold.lower_bound.value
               if threshold.HasField('lower_bound') else None),
        upper=(threshold.upper_bound.value
               if threshold.HasField('upper_bound') else None),
        is_change=False)
  # GenericChangeThreshold: HIGHER_IS_BETTER means 'at least'; LOWER_IS_BETTER
  # 'at most'.
  relative = threshold.HasField('relative') and not threshold.HasField(
      'absolute')
  bound = (threshold.relative if relative else threshold.absolute).value
  if threshold.direction == tfma.MetricDirection.LOWER_IS_BETTER:
    return Bounds(lower=None, upper=bound, is_change=True, relative=relative)
  return Bounds(lower=bound, upper=None, is_change=True, relative=relative)


def threshold_proto_text(threshold: tfma.MetricThreshold) -> str:
  """Every bound of a MetricThreshold as text, value bounds first."""
  parts = []
  if threshold.HasField('value_threshold'):
    parts.append(bounds_of(threshold.value_threshold).text)
  if threshold.HasField('change_threshold'):
    parts.append(bounds_of(threshold.change_threshold).text)
  return ', '.join(p for p in parts if p)
