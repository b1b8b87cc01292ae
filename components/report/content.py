"""What a slice report says, independent of how it is rendered.

A report shows one or two models side by side. The same structure serves
'baseline vs candidate' (both models in one Evaluator output, TFMA having
computed the candidate's diffs against the baseline) and 'A vs B' (two
Evaluator outputs, for example a BCE run and a weighted-BCE run): the
reference model comes first, the subject last, and every number has a change
column when there are two. Renderers (HTML, Markdown, JSON) only walk the rows
built here, so the three files cannot disagree.

Every value is one TFMA computed, and so is every interval beside it (TFMA's
jackknife; see components.contracts.evaluation). The only arithmetic is the
change between two models when TFMA did not compute it (A vs B), a plain
difference of two TFMA values, and the gap between the worst cohort and the
overall accuracy, a difference of two more. Intervals are clipped to the
metric's range for display only; report.json and the HTML's data attributes
keep TFMA's bounds as written.
"""

import dataclasses
import math
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from components.contracts import baseline_record
from components.contracts import evaluation as er
from components.contracts import label_balance
from components.contracts import explanation as explanation_lib
from components.report import thresholds as thresholds_lib
from models import features
from components.contracts import metric_names
from components.contracts import push_record
from models import run_record

# Per-output metrics: (TFMA name, column title, formatter).
Formatter = Callable[[float], str]


def _formatter(spec: str, scale: float = 1.0, suffix: str = '') -> Formatter:
  """Formats a number with `spec`; a missing value (None, NaN) is 'n/a'."""
  def format_value(value: float) -> str:
    if value is None or math.isnan(value):
      return 'n/a'
    return f'{value * scale:{spec}}{suffix}'
  return format_value


percent = _formatter('.1%')
decimal = _formatter('.3f')
count = _formatter('.0f')
percent_points = _formatter('+.1f', scale=100, suffix=' pp')  # rate changes
signed_decimal = _formatter('+.3f')
signed_count = _formatter('+.0f')


@dataclasses.dataclass(frozen=True)
class MetricInfo:
  name: str           # as TFMA records it
  title: str
  fmt: Formatter
  change_fmt: Formatter
  higher_is_better: Optional[bool]
  # The metric's range, to clip interval bounds to for display.
  low: Optional[float] = 0.0
  high: Optional[float] = 1.0

  def interval_text(self, interval: Optional[er.Interval]) -> str:
    """'[87.5, 95.7]' (percent metrics in points), '[n/e]', '[n/a]' or ''.

    '[n/e]': not estimable, every jackknife sample gave the same value (no
    spread, e.g. no errors among a cohort's faces): not certainty. '[n/a]':
    TFMA wrote no finite bounds (the value is undefined in some samples).
    """
    if interval is None:
      return ''
    if not interval.finite:
      return '[n/a]'
    if not interval.estimable:
      return '[n/e]'
    lower, upper = self.clip(interval.lower), self.clip(interval.upper)
    if self.fmt is percent:
      return f'[{lower * 100:.1f}, {upper * 100:.1f}]'
    return f'[{lower:.3f}, {upper:.3f}]'

  def clip(self, value: float) -> float:
    if self.low is not None:
      value = max(self.low, value)
    if self.high is not None:
      value = min(self.high, value)
    return value


METRICS: Tuple[MetricInfo, ...] = (
    MetricInfo(metric_names.ACCURACY, 'accuracy', percent, percent_points,
               True),
    MetricInfo(metric_names.FALSE_POSITIVE_RATE, 'FPR', percent, percent_points,
               False),
    MetricInfo(metric_names.FALSE_NEGATIVE_RATE, 'FNR', percent, percent_points,
               False),
    MetricInfo(metric_names.AUC, 'AUC', decimal, signed_decimal, True),
    MetricInfo(metric_names.PRECISION, 'precision', percent, percent_points,
               True),
    MetricInfo(metric_names.RECALL, 'recall', percent, percent_points, True),
    MetricInfo(metric_names.FALSE_DISCOVERY_RATE, 'FDR', percent,
               percent_points, False),
    MetricInfo(metric_names.FALSE_OMISSION_RATE, 'FOR', percent,
               percent_points, False),
    MetricInfo(metric_names.CROSS_ENTROPY, 'BCE loss', decimal, signed_decimal,
               False, high=None),
    MetricInfo(metric_names.EXAMPLE_COUNT, 'examples', count, signed_count,
               None, low=None, high=None),
)
METRIC_INFO: Dict[str, MetricInfo] = {m.name: m for m in METRICS}
# The sweeps, per threshold: rates like the scalars at 0.5.
SWEEP_INFO: Dict[str, MetricInfo] = {
    metric_names.FALSE_POSITIVE_RATE_SWEEP: METRIC_INFO[
        metric_names.FALSE_POSITIVE_RATE],
    metric_names.FALSE_NEGATIVE_RATE_SWEEP: METRIC_INFO[
        metric_names.FALSE_NEGATIVE_RATE],
}

INTERVAL_LEGEND = (
    'In brackets: the 95% interval TFMA computed ({method}, 20 buckets, a '
    't-interval), in points for rates, clipped to the metric\'s range for '
    'display (report.json keeps TFMA\'s bounds). It is approximate: on '
    'cohorts of about 30 faces such intervals cover less than their nominal '
    '95%. [n/e]: not estimable, every jackknife sample scored the same (e.g. '
    'no errors among the faces), which is not certainty; [n/a]: TFMA could '
    'not bound it (the value is undefined in some samples).')


def fixed_label(slice_key: er.SliceKey, output: str) -> Optional[int]:
  """The one true value of `output` on a slice that fixes it (else None)."""
  return dict(slice_key).get(output)


def meaningful(slice_key: er.SliceKey, output: str, metric: str) -> bool:
  """Whether `metric` says anything about `output` on this slice.

  A slice that fixes the output's label (Male on the Female faces, Young on
  a cohort) has one true class: AUC is undefined, precision and FDR are 0%
  or 100% by construction (any positive prediction is wrong, or right), and
  only the error rate of the class present (FPR for negatives, FNR and
  recall for positives) is measured, with accuracy and the loss.
  """
  label = fixed_label(slice_key, output)
  if label is None or metric in (metric_names.ACCURACY,
                                 metric_names.CROSS_ENTROPY,
                                 metric_names.EXAMPLE_COUNT):
    return True
  if label == 0:
    return metric in (metric_names.FALSE_POSITIVE_RATE,
                      metric_names.FALSE_POSITIVE_RATE_SWEEP)
  return metric in (metric_names.FALSE_NEGATIVE_RATE, metric_names.RECALL,
                    metric_names.FALSE_NEGATIVE_RATE_SWEEP)

# Slices in the order a reader wants them: overall, per gender, per age, then
# the four cohorts.
GENDER_SLICES: Tuple[er.SliceKey, ...] = (((features.MALE_KEY, 0),),
                                          ((features.MALE_KEY, 1),))
AGE_SLICES: Tuple[er.SliceKey, ...] = (((features.YOUNG_KEY, 0),),
                                       ((features.YOUNG_KEY, 1),))
COHORT_SLICES: Tuple[er.SliceKey, ...] = tuple(
    er.cohort_key(m, y) for m, y in features.COHORTS)
ALL_SLICES: Tuple[er.SliceKey, ...] = ((er.OVERALL,) + GENDER_SLICES +
                                       AGE_SLICES + COHORT_SLICES)

# Where a change value came from.
CHANGE_FROM_TFMA = 'tfma_diff'
CHANGE_DIFFERENCE = 'difference'

# Section titles, shared by the HTML and Markdown renderers and the tests.
SECTION_VERDICT = 'Verdict and thresholds'
SECTION_MODELS = 'Models'
SECTION_BALANCE = 'Label balance'
SECTION_ACCURACY = 'Accuracy per output and cohort'
SECTION_HEATMAPS = 'Male x Young heatmaps'
SECTION_CONFUSION = 'Confusion matrices by the other attribute'
SECTION_ERROR_RATES = 'FPR and FNR per cohort'
SECTION_THRESHOLDS = 'FPR and FNR across thresholds'
SECTION_DISCOVERY = 'FDR and FOR'
SECTION_TRAINING = 'Class weights'
SECTION_ALL_METRICS = 'All metrics'
SECTION_EXPLANATION = 'Explanation'
SECTIONS = (SECTION_VERDICT, SECTION_MODELS, SECTION_BALANCE,
            SECTION_ACCURACY, SECTION_HEATMAPS, SECTION_CONFUSION,
            SECTION_ERROR_RATES, SECTION_THRESHOLDS, SECTION_DISCOVERY,
            SECTION_TRAINING, SECTION_ALL_METRICS, SECTION_EXPLANATION)


def other_label(output: str) -> str:
  """The label a slice of `output` is split by when its own is fixed: a
  Male confusion matrix split by gender would hold one row per gender."""
  return next(k for k in features.LABEL_KEYS if k != output)


def other_label_slices(output: str) -> Tuple[er.SliceKey, ...]:
  other = other_label(output)
  return ((other, 0),), ((other, 1),)

# Kinds of report.
SINGLE = 'single'        # one model, no baseline
BASELINE = 'baseline'    # candidate vs the Evaluator's baseline
COMPARE = 'compare'      # model A vs model B from two evaluations


@dataclasses.dataclass
class Verdict:
  """Whether the Evaluator blessed the model, and which thresholds decided."""
  blessed: Optional[bool]
  has_baseline: bool
  checks: List[thresholds_lib.ThresholdCheck]
  failures: List[er.ValidationFailure]
  # What the baseline was, or why there was none (components.baseline).
  baseline: Optional[baseline_record.BaselineRecord] = None


@dataclasses.dataclass
class ModelResult:
  """One model's column: its TFMA metrics and what its run recorded."""
  name: str          # column title: 'baseline', 'candidate', 'A', 'B'
  description: str   # one line: which model, which loss, which run
  metrics: Dict[er.SliceKey, Dict[str, er.OutputMetrics]]
  evaluation_uri: str = ''
  model_uri: str = ''
  run_id: str = ''
  verdict: Optional[Verdict] = None
  training: Optional[run_record.TrainingRecord] = None
  push: Optional[push_record.PushRecord] = None
  balance: Optional[Dict[str, label_balance.SplitBalance]] = None
  explanation: Optional[explanation_lib.Explanation] = None
  # (output, sweep metric) -> its thresholds, from the evaluation's config.
  sweep_thresholds: Dict[Tuple[str, str], Tuple[float, ...]] = (
      dataclasses.field(default_factory=dict))
  interval_method: Optional[str] = None

  def value(self, slice_key: er.SliceKey, output: str, metric: str) -> float:
    entry = self.metrics.get(slice_key, {}).get(output)
    return math.nan if entry is None else entry.get(metric)

  def interval(self, slice_key: er.SliceKey, output: str, metric: str
               ) -> Optional[er.Interval]:
    entry = self.metrics.get(slice_key, {}).get(output)
    return None if entry is None else entry.interval(metric)

  def sweep(self, slice_key: er.SliceKey, output: str, metric: str
            ) -> Tuple[Tuple[float, ...], Tuple[Optional[er.Interval], ...]]:
    """A sweep's values and intervals, one per threshold (or ((), ()))."""
    entry = self.metrics.get(slice_key, {}).get(output)
    if entry is None:
      return (), ()
    return entry.array(metric), entry.array_interval(metric)

  def thresholds(self, output: str, metric: str) -> Tuple[float, ...]:
    return self.sweep_thresholds.get((output, metric), ())

  @property
  def has_sweeps(self) -> bool:
    return bool(self.sweep_thresholds)

  def worst_cohort_gap(self, output: str) -> Optional[er.CohortGap]:
    return self._as_evaluation().worst_cohort_gap(output)

  def confusion(self, slice_key: er.SliceKey, output: str
                ) -> Optional[er.Confusion]:
    entry = self.metrics.get(slice_key, {}).get(output)
    return None if entry is None else entry.confusion

  def _as_evaluation(self) -> er.Evaluation:
    return er.Evaluation(metrics={er.CANDIDATE: self.metrics},
                         validation_ok=None, failures=[])

  def worst_cohort(self, output: str) -> Optional[er.SliceKey]:
    """The cohort with the lowest accuracy (evaluation_results' rule)."""
    return self._as_evaluation().worst_cohort(output)

  def highest_cohort(self, output: str, metric: str) -> Optional[er.SliceKey]:
    """The cohort with the highest value of an error rate (FPR, FNR)."""
    scored = [(self.value(k, output, metric), k) for k in COHORT_SLICES]
    scored = [(v, k) for v, k in scored if not math.isnan(v)]
    return max(scored)[1] if scored else None


@dataclasses.dataclass(frozen=True)
class Row:
  """One number per model for (output, slice, metric), and its change."""
  output: str
  slice_key: er.SliceKey
  metric: str
  values: Tuple[float, ...]
  change: Optional[float]       # None with a single model
  change_source: Optional[str]  # CHANGE_FROM_TFMA or CHANGE_DIFFERENCE
  intervals: Tuple[Optional[er.Interval], ...] = ()  # per model

  @property
  def meaningful(self) -> bool:
    return meaningful(self.slice_key, self.output, self.metric)


@dataclasses.dataclass
class ReportContent:
  """A whole report: the models (reference first, subject last) and context."""
  title: str
  kind: str
  models: List[ModelResult]
  note: str = ''

  @property
  def subject(self) -> ModelResult:
    return self.models[-1]

  @property
  def reference(self) -> Optional[ModelResult]:
    return self.models[0] if len(self.models) > 1 else None

  @property
  def compared(self) -> bool:
    return len(self.models) > 1

  @property
  def change_title(self) -> str:
    if not self.compared:
      return ''
    return f'change ({self.subject.name} - {self.reference.name})'

  def outputs(self) -> List[str]:
    present = {o for by_output in self.subject.metrics.values()
               for o in by_output}
    return [o for o in features.LABEL_KEYS if o in present]

  def slices(self) -> List[er.SliceKey]:
    return [k for k in ALL_SLICES if k in self.subject.metrics]

  def row(self, output: str, slice_key: er.SliceKey, metric: str) -> Row:
    values = tuple(m.value(slice_key, output, metric) for m in self.models)
    change, source = None, None
    if self.compared:
      change, source = self._change(output, slice_key, metric, values)
    return Row(output=output, slice_key=slice_key, metric=metric,
               values=values, change=change, change_source=source,
               intervals=tuple(m.interval(slice_key, output, metric)
                               for m in self.models))

  @property
  def interval_methods(self) -> List[str]:
    """The interval methods of the models' evaluations, once each."""
    methods = []
    for m in self.models:
      if m.interval_method and m.interval_method not in methods:
        methods.append(m.interval_method)
    return methods

  def interval_legend(self) -> str:
    """How to read the brackets ('' when no model has intervals)."""
    methods = self.interval_methods
    if not methods:
      return ''
    return INTERVAL_LEGEND.format(method=' / '.join(methods))

  def _change(self, output, slice_key, metric, values):
    if self.kind == BASELINE:
      entry = self.subject.metrics.get(slice_key, {}).get(output)
      if entry is not None and metric in entry.diffs:
        return entry.diffs[metric], CHANGE_FROM_TFMA
    return values[-1] - values[0], CHANGE_DIFFERENCE

  def confusion_change(self, slice_key: er.SliceKey, output: str
                       ) -> Optional[er.Confusion]:
    """Subject minus reference per count: TFMA's diff when it wrote one."""
    if not self.compared:
      return None
    if self.kind == BASELINE:
      entry = self.subject.metrics.get(slice_key, {}).get(output)
      if entry is not None and entry.confusion_diff is not None:
        return entry.confusion_diff
    a = self.reference.confusion(slice_key, output)
    b = self.subject.confusion(slice_key, output)
    if a is None or b is None:
      return None
    return er.Confusion(tp=b.tp - a.tp, fp=b.fp - a.fp, tn=b.tn - a.tn,
                        fn=b.fn - a.fn)

  def rows(self, metrics: Sequence[str] = tuple(m.name for m in METRICS),
           slices: Optional[Sequence[er.SliceKey]] = None,
           outputs: Optional[Sequence[str]] = None) -> List[Row]:
    """Rows for every (output, slice, metric), output-major."""
    slices = [s for s in (slices or self.slices())
              if s in self.subject.metrics]
    return [self.row(output, key, metric)
            for output in (outputs or self.outputs())
            for key in slices
            for metric in metrics]

def verdict_of(evaluation: er.Evaluation) -> Verdict:
  return Verdict(blessed=evaluation.validation_ok,
                 has_baseline=evaluation.has_baseline,
                 checks=thresholds_lib.threshold_checks(evaluation),
                 failures=list(evaluation.failures),
                 baseline=evaluation.baseline_record)


def describe(training: Optional[run_record.TrainingRecord],
             run_id: str = '') -> str:
  """'loss bce, run 2026-...': what tells two runs of the study apart."""
  parts = []
  if training is not None:
    parts.append(f'loss {training.loss}')
  if run_id:
    parts.append(f'run {run_id}')
  return ', '.join(parts)


def model_from_evaluation(
    evaluation_uri: str, name: str, *,
    evaluation: Optional[er.Evaluation] = None,
    run_id: str = '',
    training: Optional[run_record.TrainingRecord] = None,
    push: Optional[push_record.PushRecord] = None,
    balance: Optional[Dict[str, label_balance.SplitBalance]] = None,
    explanation: Optional[explanation_lib.Explanation] = None) -> ModelResult:
  """The candidate of one Evaluator output as a column, with its verdict."""
  evaluation = evaluation or er.load_evaluation(evaluation_uri)
  locations = evaluation.model_locations
  model_uri = locations.get(er.CANDIDATE, locations.get('', ''))
  return ModelResult(
      name=name, description=describe(training, run_id),
      metrics=evaluation.candidate(), evaluation_uri=evaluation_uri,
      model_uri=model_uri, run_id=run_id,
      verdict=verdict_of(evaluation), training=training,
      push=push, balance=balance, explanation=explanation,
      sweep_thresholds=sweep_thresholds_of(evaluation),
      interval_method=evaluation.interval_method)


def sweep_thresholds_of(evaluation: er.Evaluation
                        ) -> Dict[Tuple[str, str], Tuple[float, ...]]:
  """(output, sweep) -> thresholds, for the sweeps the evaluation holds."""
  result = {}
  for output in features.LABEL_KEYS:
    for metric in metric_names.SWEEPS:
      thresholds = evaluation.thresholds(output, metric)
      if thresholds:
        result[(output, metric)] = thresholds
  return result


def for_run(evaluation_uri: str, *,
            title: str = 'Slice report',
            note: str = '',
            run_id: str = '',
            training: Optional[run_record.TrainingRecord] = None,
            push: Optional[push_record.PushRecord] = None,
            balance: Optional[Dict[str, label_balance.SplitBalance]] = None,
            explanation: Optional[explanation_lib.Explanation] = None
            ) -> ReportContent:
  """The report of one Evaluator run: candidate, and baseline if it had one."""
  evaluation = er.load_evaluation(evaluation_uri)
  candidate = model_from_evaluation(
      evaluation_uri, er.CANDIDATE, evaluation=evaluation, run_id=run_id,
      training=training, push=push, balance=balance, explanation=explanation)
  if not evaluation.has_baseline:
    return ReportContent(title=title, kind=SINGLE, models=[candidate],
                         note=note)
  baseline = ModelResult(
      name=er.BASELINE,
      description="the Evaluator's baseline: the model being served",
      metrics=evaluation.baseline(), evaluation_uri=evaluation_uri,
      model_uri=evaluation.model_locations.get(er.BASELINE, ''),
      sweep_thresholds=sweep_thresholds_of(evaluation),
      interval_method=evaluation.interval_method)
  return ReportContent(title=title, kind=BASELINE,
                       models=[baseline, candidate], note=note)


def comparison(a: ModelResult, b: ModelResult, *,
               title: str = 'Model comparison', note: str = ''
               ) -> ReportContent:
  """A against B: two evaluations' candidates side by side, B the subject."""
  return ReportContent(title=title, kind=COMPARE, models=[a, b], note=note)
