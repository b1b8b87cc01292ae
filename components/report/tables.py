"""The report's tables and findings, built once for every renderer.

A table is a header and rows of cells; each cell has the text a reader sees
and, for numbers, the exact value and what it is (output, slice, metric,
model), which the HTML keeps as data attributes and report.json lists. The
Markdown and HTML renderers only lay these out, so they show the same numbers
by construction, and tests can read every number back and compare it with
TFMA's.
"""

import dataclasses
import math
from typing import Dict, List, Optional, Tuple

from components.contracts import evaluation as er
from components.contracts import label_balance
from components.report import content as content_lib
from components.report import thresholds as thresholds_lib
from models import features
from components.contracts import metric_names


@dataclasses.dataclass(frozen=True)
class Cell:
  """One table cell; a number carries what it is and TFMA's interval.

  `lower` and `upper` are TFMA's bounds as written (None without an
  interval); `interval_text` is how they read ('[87.5, 95.7]', '[n/e]').
  """
  text: str
  value: Optional[float] = None
  output: str = ''
  slice_name: str = ''
  metric: str = ''
  model: str = ''  # a model's name, or 'change'
  css: str = ''    # 'pass', 'fail', 'better', 'worse', 'worst', 'path'
  lower: Optional[float] = None
  upper: Optional[float] = None
  interval_text: str = ''

  @property
  def full_text(self) -> str:
    """The value and its interval, as Markdown and the console show it."""
    return f'{self.text} {self.interval_text}' if self.interval_text else (
        self.text)


@dataclasses.dataclass(frozen=True)
class Table:
  header: List[str]
  rows: List[List[Cell]]
  caption: str = ''


CHANGE = 'change'


def _text(text: str, css: str = '') -> Cell:
  return Cell(text=text, css=css)


def _number(value: float, info: content_lib.MetricInfo, output: str,
            slice_key: er.SliceKey, model: str, css: str = '',
            interval: Optional[er.Interval] = None,
            metric: Optional[str] = None) -> Cell:
  return Cell(text=info.fmt(value), value=value, output=output,
              slice_name=er.slice_name(slice_key), metric=metric or info.name,
              model=model, css=css,
              lower=None if interval is None else interval.lower,
              upper=None if interval is None else interval.upper,
              interval_text=('' if value is None or math.isnan(value)
                             else info.interval_text(interval)))


def _change_css(change: Optional[float],
                info: content_lib.MetricInfo) -> str:
  if change is None or math.isnan(change) or change == 0 or (
      info.higher_is_better is None):
    return ''
  return 'better' if (change > 0) == info.higher_is_better else 'worse'


def _change(row: content_lib.Row, info: content_lib.MetricInfo) -> Cell:
  return Cell(text=info.change_fmt(row.change), value=row.change,
              output=row.output, slice_name=er.slice_name(row.slice_key),
              metric=row.metric, model=CHANGE,
              css=_change_css(row.change, info))


def metric_cells(report: content_lib.ReportContent, row: content_lib.Row,
                 worst: Optional[Dict[str, er.SliceKey]] = None
                 ) -> List[Cell]:
  """One cell per model, then the change when there are two models."""
  info = content_lib.METRIC_INFO[row.metric]
  cells = []
  intervals = row.intervals or (None,) * len(row.values)
  for model, value, interval in zip(report.models, row.values, intervals):
    css = 'worst' if worst and worst.get(model.name) == row.slice_key else ''
    cells.append(_number(value, info, row.output, row.slice_key, model.name,
                         css, interval))
  if report.compared:
    cells.append(_change(row, info))
  return cells


def _model_headers(report: content_lib.ReportContent, title: str
                   ) -> List[str]:
  headers = [f'{title} ({m.name})' if report.compared else title
             for m in report.models]
  return headers + ([f'{title} change'] if report.compared else [])


def change_note(report: content_lib.ReportContent,
                colours: bool = False) -> str:
  """How to read the change columns ('' with one model)."""
  if not report.compared:
    return ''
  source = (" (TFMA's own diff metrics where it computed them)"
            if report.kind == content_lib.BASELINE else '')
  return (f'Every change is {report.subject.name} minus '
          f'{report.reference.name}{source}; rates change in percentage '
          'points (pp).' + (' Green: better, red: worse.' if colours else ''))


# ------------------------------------------------------------ the verdict


def verdict_text(model: content_lib.ModelResult) -> str:
  if model.verdict is None or model.verdict.blessed is None:
    return 'no validation result'
  return 'BLESSED' if model.verdict.blessed else 'NOT BLESSED'


def push_text(model: content_lib.ModelResult) -> str:
  if model.push is None:
    return 'push not recorded'
  if model.push.pushed:
    return f'pushed to {model.push.destination}'
  return 'not pushed (the serving folder keeps the previous model)'


def baseline_text(verdict: content_lib.Verdict) -> str:
  """What the change thresholds were checked against, or why not."""
  note = verdict.baseline.note if verdict.baseline is not None else ''
  if verdict.has_baseline:
    return ('checked against the baseline' + (f', {note}' if note else '') +
            ', change thresholds included')
  if note:
    return f'no baseline: {note}, so only the floors were checked'
  return 'no baseline, so no change threshold'


def refusal_text(verdict: content_lib.Verdict) -> str:
  """Why a model was not blessed: the baseline, the floors or both ('')."""
  if verdict.blessed is not False or not verdict.failures:
    return ''
  changes = sorted({f.output for f in verdict.failures if f.is_diff})
  floors = [f for f in verdict.failures if not f.is_diff]
  reasons = []
  if changes:
    reasons.append('it is worse than the baseline by more than the allowed '
                   f'drop ({", ".join(changes)})')
  if floors:
    reasons.append(f'it misses {len(floors)} absolute floor'
                   f'{"s" if len(floors) > 1 else ""}')
  return 'not blessed because ' + ' and '.join(reasons)


def verdict_lines(report: content_lib.ReportContent) -> List[str]:
  """One sentence per model that has its own verdict."""
  lines = []
  for model in report.models:
    if model.verdict is None:
      continue
    lines.append(f'{model.name}: {verdict_text(model)} '
                 f'({baseline_text(model.verdict)}); {push_text(model)}.')
    refusal = refusal_text(model.verdict)
    if refusal:
      lines.append(f'{model.name} {refusal}.')
    for f in model.verdict.failures:
      change = ' change' if f.is_diff else ''
      lines.append(f'{model.name} failed: {f.output} {f.metric}{change} on '
                   f'{er.slice_name(f.slice_key)} = {f.value:.4f}, needs '
                   f'{f.threshold}')
  return lines


def thresholds_table(model: content_lib.ModelResult) -> Table:
  rows = []
  order = {key: i for i, key in enumerate(content_lib.ALL_SLICES)}
  checks = sorted(model.verdict.checks if model.verdict else [],
                  key=lambda c: (c.output, c.metric, c.is_change,
                                 order.get(c.slice_key, len(order))))
  for check in checks:
    info = content_lib.METRIC_INFO.get(check.metric)
    fmt = ((info.change_fmt if check.is_change else info.fmt) if info
           else content_lib.decimal)
    css = {thresholds_lib.PASSED: 'pass',
           thresholds_lib.FAILED: 'fail'}.get(check.status, '')
    rows.append([
        _text(check.output), _text(er.slice_name(check.slice_key)),
        _text(check.metric + (' (change)' if check.is_change else '')),
        _text(check.bound_text),
        Cell(text=fmt(check.observed), value=check.observed,
             output=check.output, slice_name=er.slice_name(check.slice_key),
             metric=check.metric + ('/change' if check.is_change else ''),
             model=model.name),
        _text(check.status, css)])
  return Table(header=['output', 'slice', 'metric', 'threshold', 'value',
                       'result'], rows=rows,
               caption=f'{model.name}: thresholds from the evaluation\'s '
                       'eval_config.json; results from its validation result')


# ------------------------------------------------------------- the models


def models_table(report: content_lib.ReportContent) -> Table:
  rows = []
  for m in report.models:
    rows.append([_text(m.name), _text(m.description or '-'),
                 _text(verdict_text(m) if m.verdict else '-'),
                 _text(push_text(m) if m.push else '-', 'path'),
                 _text(m.model_uri or '-', 'path'),
                 _text(m.evaluation_uri or '-', 'path')])
  return Table(header=['model', 'what', 'verdict', 'push', 'model path',
                       'evaluation'], rows=rows)


# ----------------------------------------------------------------- balance


def balance_tables(report: content_lib.ReportContent
                   ) -> List[Dict[str, object]]:
  """[{'models': [names], 'balance': {split: SplitBalance}, 'table': Table}]."""
  groups: List[Dict[str, object]] = []
  for m in report.models:
    if m.balance is None:
      continue
    for group in groups:
      if group['balance'] == m.balance:
        group['models'].append(m.name)
        break
    else:
      groups.append({'models': [m.name], 'balance': m.balance})
  for group in groups:
    group['table'] = balance_table(group['balance'])
  return groups


def balance_table(balances: Dict[str, label_balance.SplitBalance]) -> Table:
  cohorts = features.cohort_names()
  splits = [s for s in features.SPLITS if s in balances] + sorted(
      s for s in balances if s not in features.SPLITS)
  rows = []
  for split in splits:
    b = balances[split]
    row = [_text(split), Cell(text=str(b.num_examples), value=b.num_examples,
                              slice_name=split, metric='num_examples')]
    row += [Cell(text=f'{b.positive_rates[label]:.1%}',
                 value=b.positive_rates[label], output=label,
                 slice_name=split, metric='positive_rate')
            for label in features.LABEL_KEYS]
    row += [Cell(text=f'{b.cohort_counts[c]} ({b.cohort_shares[c]:.1%})',
                 value=b.cohort_counts[c], slice_name=split,
                 metric=f'cohort_count/{c}') for c in cohorts]
    rows.append(row)
  return Table(header=(['split', 'examples'] +
                       [f'{label} positive' for label in features.LABEL_KEYS]
                       + cohorts), rows=rows)


# ------------------------------------------------------ accuracy and rates


def worst_cohorts(report: content_lib.ReportContent, output: str
                  ) -> Dict[str, er.SliceKey]:
  result = {}
  for m in report.models:
    worst = m.worst_cohort(output)
    if worst is not None:
      result[m.name] = worst
  return result


def accuracy_table(report: content_lib.ReportContent) -> Table:
  """Per output: examples, then accuracy per model (and change), overall and
  per cohort; each model's worst cohort is marked."""
  info = content_lib.METRIC_INFO[metric_names.EXAMPLE_COUNT]
  rows = []
  for output in report.outputs():
    worst = worst_cohorts(report, output)
    for key in [er.OVERALL] + list(content_lib.COHORT_SLICES):
      if key not in report.subject.metrics:
        continue
      count = report.subject.value(key, output, metric_names.EXAMPLE_COUNT)
      rows.append([_text(output), _text(er.slice_name(key)),
                   _number(count, info, output, key, report.subject.name)] +
                  metric_cells(report, report.row(output, key,
                                                  metric_names.ACCURACY),
                               worst))
  return Table(header=['output', 'slice', 'examples'] +
               _model_headers(report, 'accuracy'), rows=rows,
               caption='Binary accuracy at threshold 0.5 on the test split '
                       '(TFMA), with its 95% interval where TFMA computed '
                       'one. Marked: each model\'s worst cohort.')


def gap_lines(report: content_lib.ReportContent) -> List[str]:
  """Per output and model: is the worst cohort's gap to the overall accuracy
  larger than the cohort's own 95% interval?"""
  lines = []
  info = content_lib.METRIC_INFO[metric_names.ACCURACY]
  for output in report.outputs():
    for m in report.models:
      gap = m.worst_cohort_gap(output)
      if gap is None:
        continue
      count = m.value(gap.cohort, output, metric_names.EXAMPLE_COUNT)
      head = (f'{output}, {m.name}: the worst cohort, '
              f'{er.slice_name(gap.cohort)} ({count:.0f} faces), scores '
              f'{info.fmt(gap.value)} {info.interval_text(gap.interval)}'
              .replace('  ', ' ') +
              f', {gap.gap * 100:.1f} points below the overall '
              f'{info.fmt(gap.overall)}: ')
      if gap.beyond_interval is None:
        why = ('no interval was computed' if gap.interval is None else
               'its interval is not estimable')
        lines.append(head + f'{why}, so noise cannot be told from a gap.')
      elif gap.beyond_interval:
        lines.append(head + 'the overall accuracy lies above the cohort\'s '
                     '95% interval, so the gap is larger than its interval.')
      else:
        lines.append(head + 'the overall accuracy lies inside the cohort\'s '
                     '95% interval, so the gap is within its noise.')
  return lines


def _highest_rate_text(model: content_lib.ModelResult, output: str,
                       metric: str, title: str) -> str:
  key = model.highest_cohort(output, metric)
  value = math.nan if key is None else model.value(key, output, metric)
  if key is None or math.isnan(value):
    return f'{title} undefined in every cohort'
  if value == 0:
    return f'{title} 0% in every cohort where it is defined'
  return f'highest {title} {er.slice_name(key)} ({content_lib.percent(value)})'


def worst_cohort_lines(report: content_lib.ReportContent) -> List[str]:
  """Per output and model: the worst cohort by accuracy (the one a cohort
  floor fails first) and where the false positives and negatives gather."""
  lines = []
  for output in report.outputs():
    for m in report.models:
      worst = m.worst_cohort(output)
      if worst is None:
        continue
      accuracy = m.value(worst, output, metric_names.ACCURACY)
      lines.append(
          f'{output}, {m.name}: worst cohort {er.slice_name(worst)} '
          f'(accuracy {content_lib.percent(accuracy)}); ' +
          _highest_rate_text(m, output, metric_names.FALSE_POSITIVE_RATE,
                             'FPR') + ', ' +
          _highest_rate_text(m, output, metric_names.FALSE_NEGATIVE_RATE,
                             'FNR'))
  return lines


def error_rates_table(report: content_lib.ReportContent) -> Table:
  rows = []
  for output in report.outputs():
    for key in content_lib.COHORT_SLICES:
      if key not in report.subject.metrics:
        continue
      cells = [_text(output), _text(er.slice_name(key))]
      for metric in (metric_names.FALSE_POSITIVE_RATE,
                     metric_names.FALSE_NEGATIVE_RATE):
        cells += metric_cells(report, report.row(output, key, metric))
      rows.append(cells)
  return Table(header=['output', 'cohort'] + _model_headers(report, 'FPR') +
               _model_headers(report, 'FNR'), rows=rows,
               caption='At threshold 0.5. FPR: negatives predicted positive '
                       '(TFMA FallOut); FNR: positives predicted negative '
                       '(TFMA MissRate). A cohort holds one true value of '
                       'each label, so only one of the two is defined per '
                       'output (n/a: the cohort has no faces of that class).')


def sweep_slices() -> List[er.SliceKey]:
  """Where a sweep is shown: overall and per cohort. (A slice of the other
  attribute repeats a cohort: Young's FPR on the Female faces is its FPR on
  Non-Young x Female, the only Female faces with negatives.)"""
  return [er.OVERALL] + list(content_lib.COHORT_SLICES)


def sweep_table(model: content_lib.ModelResult, output: str) -> Table:
  """FPR and FNR of one output at every threshold, per slice, with intervals.

  Rows where the rate is undefined on the slice (FPR on a slice without
  negatives) are left out; the caption says so.
  """
  rows = []
  thresholds: Tuple[float, ...] = ()
  for metric, info in content_lib.SWEEP_INFO.items():
    thresholds = model.thresholds(output, metric) or thresholds
    for key in sweep_slices():
      values, intervals = model.sweep(key, output, metric)
      if not values or all(math.isnan(v) for v in values):
        continue
      rows.append([_text(output), _text(er.slice_name(key)),
                   _text(info.title)] +
                  [_number(v, info, output, key, model.name,
                           interval=interval, metric=f'{metric}@{t:g}')
                   for v, interval, t in zip(values, intervals,
                                             model.thresholds(output,
                                                              metric))])
  return Table(header=['output', 'slice', 'rate'] +
               [f'> {t:g}' for t in thresholds], rows=rows,
               caption=f'{model.name}: {output} FPR (TFMA FallOut) and FNR '
                       '(MissRate) when a probability above each threshold '
                       'counts as positive, with 95% intervals. Slices '
                       'where a rate is undefined (no faces of its class) '
                       'are left out.')


def tradeoff_lines(model: content_lib.ModelResult, output: str) -> List[str]:
  """Per rate, the cohort it moves most for across the sweep, in numbers:
  the trade-off a threshold other than 0.5 would make."""
  lines = []
  for metric, info in content_lib.SWEEP_INFO.items():
    thresholds = model.thresholds(output, metric)
    best = None
    for key in content_lib.COHORT_SLICES:
      values, _ = model.sweep(key, output, metric)
      finite = [v for v in values if not math.isnan(v)]
      if len(finite) < 2 or len(values) != len(thresholds):
        continue
      spread = max(finite) - min(finite)
      if best is None or spread > best[0]:
        best = (spread, key, values)
    if best is None:
      continue
    _, key, values = best
    middle = min(range(len(thresholds)), key=lambda i: abs(
        thresholds[i] - metric_names.DECISION_THRESHOLD))
    points = [(thresholds[i], values[i]) for i in sorted(
        {0, middle, len(thresholds) - 1})]
    lines.append(f'{output} {info.title} of {er.slice_name(key)}: ' +
                 ', '.join(f'{info.fmt(v)} at {t:g}' for t, v in points))
  return lines


def threshold_caption(model: content_lib.ModelResult, output: str) -> str:
  lines = tradeoff_lines(model, output)
  return ('One line per cohort, dashed for overall; the dotted line is the '
          'decision threshold the model is judged at (0.5); error bars are '
          '95% intervals. A higher threshold trades false positives for '
          'false negatives' + (': ' + '; '.join(lines) if lines else '') +
          '.')


def discovery_table(report: content_lib.ReportContent) -> Table:
  """FDR and FOR at 0.5, on every slice, with their intervals.

  On a slice that fixes the output's label both are 0% or 100% by
  construction; those cells say so instead of showing the number.
  """
  rows = []
  for output in report.outputs():
    for key in report.slices():
      cells = [_text(output), _text(er.slice_name(key))]
      for metric in (metric_names.FALSE_DISCOVERY_RATE,
                     metric_names.FALSE_OMISSION_RATE):
        row = report.row(output, key, metric)
        if row.meaningful:
          cells += metric_cells(report, row)
        else:
          cells += [_text('one true class')] * (
              len(report.models) + (1 if report.compared else 0))
      rows.append(cells)
  return Table(header=['output', 'slice'] + _model_headers(report, 'FDR') +
               _model_headers(report, 'FOR'), rows=rows,
               caption='At threshold 0.5. FDR: share of positive predictions '
                       'that are wrong (TFMA FalseDiscoveryRate); FOR: share '
                       'of negative predictions that are wrong '
                       '(FalseOmissionRate). \'one true class\': every face '
                       'of the slice has the same true value of the output '
                       '(e.g. Male on a gender slice or any cohort), so FDR '
                       'and FOR are 0% or 100% by construction and say '
                       'nothing; report.json keeps TFMA\'s values.')


def heatmap_tables(report: content_lib.ReportContent, output: str
                   ) -> List[Table]:
  """A 2 x 2 accuracy grid (Young rows, gender columns) per model + change."""
  info = content_lib.METRIC_INFO[metric_names.ACCURACY]
  genders = (0, 1)
  header = [f'{output} accuracy'] + [
      features.VALUE_NAMES[features.MALE_KEY][g] for g in genders]
  tables = []
  for i, m in enumerate(report.models):
    rows = []
    for young in (1, 0):
      row = [_text(features.VALUE_NAMES[features.YOUNG_KEY][young])]
      for male in genders:
        key = er.cohort_key(male, young)
        row.append(_number(m.value(key, output, metric_names.ACCURACY), info,
                           output, key, m.name,
                           interval=m.interval(key, output,
                                               metric_names.ACCURACY)))
      rows.append(row)
    tables.append(Table(header=header, rows=rows,
                        caption=f'{output} accuracy, {m.name}'))
  if report.compared:
    rows = []
    for young in (1, 0):
      row = [_text(features.VALUE_NAMES[features.YOUNG_KEY][young])]
      for male in genders:
        row.append(_change(report.row(output, er.cohort_key(male, young),
                                      metric_names.ACCURACY), info))
      rows.append(row)
    tables.append(Table(header=header, rows=rows,
                        caption=f'{output} accuracy, {report.change_title}'))
  return tables


def confusion_table(report: content_lib.ReportContent) -> Table:
  """TN FP FN TP of each output, split by the other attribute, per model.

  Split by its own label, an output's matrix would hold one true row per
  slice (Male on the Female faces has no true positives at all).
  """
  rows = []
  parts = (('tn', 'TN'), ('fp', 'FP'), ('fn', 'FN'), ('tp', 'TP'))
  for output in report.outputs():
    for key in content_lib.other_label_slices(output):
      matrices = [m.confusion(key, output) for m in report.models]
      for m, c in zip(report.models, matrices):
        if c is None:
          continue
        rows.append([_text(output), _text(er.slice_name(key)),
                     _text(m.name)] +
                    [Cell(text=content_lib.count(getattr(c, attr)),
                          value=getattr(c, attr), output=output,
                          slice_name=er.slice_name(key),
                          metric=f'confusion/{attr}', model=m.name)
                     for attr, _ in parts])
      change = report.confusion_change(key, output)
      if change is not None:
        rows.append([_text(output), _text(er.slice_name(key)),
                     _text(report.change_title)] +
                    [Cell(text=content_lib.signed_count(getattr(change, attr)),
                          value=getattr(change, attr), output=output,
                          slice_name=er.slice_name(key),
                          metric=f'confusion/{attr}', model=CHANGE)
                     for attr, _ in parts])
  names = {o: features.VALUE_NAMES[o] for o in report.outputs()}
  caption = '; '.join(f'{o}: positive = {n[1]}, negative = {n[0]}, split by '
                      f'{content_lib.other_label(o)}'
                      for o, n in names.items())
  return Table(header=['output', 'slice', 'model'] + [t for _, t in parts],
               rows=rows, caption=f'Counts at threshold 0.5 (TFMA). {caption}.')


# The columns of the all-metrics grid (examples are in their own column).
GRID_METRICS = tuple(m.name for m in content_lib.METRICS
                     if m.name != metric_names.EXAMPLE_COUNT)
NOT_MEANINGFUL = '\u2014'


def all_metrics_table(report: content_lib.ReportContent) -> Table:
  """One row per output, slice and model; one column per metric.

  A metric that says nothing on a slice (content.meaningful: the slice fixes
  the output's label) shows a dash instead of TFMA's 0%, 100% or n/a.
  """
  rows = []
  count = content_lib.METRIC_INFO[metric_names.EXAMPLE_COUNT]
  for output in report.outputs():
    for key in report.slices():
      for i, m in enumerate(report.models):
        row = [_text(output), _text(er.slice_name(key))]
        if report.compared:
          row.append(_text(m.name))
        row.append(_number(m.value(key, output, count.name), count, output,
                           key, m.name))
        for metric in GRID_METRICS:
          if not content_lib.meaningful(key, output, metric):
            row.append(_text(NOT_MEANINGFUL))
            continue
          row.append(metric_cells(report, report.row(output, key, metric))[i])
        rows.append(row)
      if report.compared:
        row = [_text(output), _text(er.slice_name(key)),
               _text(report.change_title), _text('')]
        for metric in GRID_METRICS:
          if not content_lib.meaningful(key, output, metric):
            row.append(_text(NOT_MEANINGFUL))
            continue
          row.append(metric_cells(report, report.row(output, key, metric))[-1])
        rows.append(row)
  header = ['output', 'slice'] + (['model'] if report.compared else []) + [
      'examples'] + [content_lib.METRIC_INFO[m].title for m in GRID_METRICS]
  fixed = ('\u2014: not meaningful on this slice, which holds one true value '
           'of the output (e.g. Male on the Female faces): AUC is undefined, '
           'precision and FDR are 0% or 100% by construction, and only the '
           'error rate of the class present is measured.')
  return Table(header=header, rows=rows,
               caption='Every metric TFMA computed, at threshold 0.5 (AUC '
                       'and BCE loss over all thresholds). ' + fixed +
               (' Changes come from TFMA\'s diff metrics where it computed '
                'them.' if report.kind == content_lib.BASELINE else ''))


# ----------------------------------------------------------- class weights


def class_weights_table(report: content_lib.ReportContent) -> Optional[Table]:
  rows = []
  for m in report.models:
    if m.training is None:
      continue
    for label, w in sorted(m.training.class_weights.items()):
      rows.append([
          _text(m.name), _text(m.training.loss), _text(label),
          Cell(text=f'{w.get("positive_rate", math.nan):.1%}',
               value=w.get('positive_rate'), output=label,
               metric='train_positive_rate', model=m.name),
          Cell(text=f'{w["positive_weight"]:.3f}', value=w['positive_weight'],
               output=label, metric='positive_weight', model=m.name),
          Cell(text=f'{w["negative_weight"]:.3f}', value=w['negative_weight'],
               output=label, metric='negative_weight', model=m.name)])
  if not rows:
    return None
  return Table(header=['model', 'loss', 'label', 'train positive rate',
                       'positive weight', 'negative weight'], rows=rows,
               caption='Derived from the train split by Transform; plain '
                       'bce records them but does not use them.')


