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
from typing import Dict, List, Optional

from components.contracts import evaluation as er
from components.contracts import label_balance
from components.report import content as content_lib
from components.report import thresholds as thresholds_lib
from models import features
from components.contracts import metric_names


@dataclasses.dataclass(frozen=True)
class Cell:
  text: str
  value: Optional[float] = None
  output: str = ''
  slice_name: str = ''
  metric: str = ''
  model: str = ''  # a model's name, or 'change'
  css: str = ''    # 'pass', 'fail', 'better', 'worse', 'worst'


@dataclasses.dataclass(frozen=True)
class Table:
  header: List[str]
  rows: List[List[Cell]]
  caption: str = ''


CHANGE = 'change'


def _text(text: str, css: str = '') -> Cell:
  return Cell(text=text, css=css)


def _number(value: float, info: content_lib.MetricInfo, output: str,
            slice_key: er.SliceKey, model: str, css: str = '') -> Cell:
  return Cell(text=info.fmt(value), value=value, output=output,
              slice_name=er.slice_name(slice_key), metric=info.name,
              model=model, css=css)


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
  for model, value in zip(report.models, row.values):
    css = 'worst' if worst and worst.get(model.name) == row.slice_key else ''
    cells.append(_number(value, info, row.output, row.slice_key, model.name,
                         css))
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
                 _text(push_text(m) if m.push else '-'),
                 _text(m.model_uri or '-'), _text(m.evaluation_uri or '-')])
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
                       '(TFMA). Marked: each model\'s worst cohort.')


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
               caption='FPR: negatives predicted positive (TFMA FallOut); '
                       'FNR: positives predicted negative (TFMA MissRate).')


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
                           output, key, m.name))
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
  """TN FP FN TP of each output on Female and Male examples, per model."""
  rows = []
  parts = (('tn', 'TN'), ('fp', 'FP'), ('fn', 'FN'), ('tp', 'TP'))
  for output in report.outputs():
    for gender in content_lib.GENDER_SLICES:
      matrices = [m.confusion(gender, output) for m in report.models]
      for m, c in zip(report.models, matrices):
        if c is None:
          continue
        rows.append([_text(output), _text(er.slice_name(gender)),
                     _text(m.name)] +
                    [Cell(text=content_lib.count(getattr(c, attr)),
                          value=getattr(c, attr), output=output,
                          slice_name=er.slice_name(gender),
                          metric=f'confusion/{attr}', model=m.name)
                     for attr, _ in parts])
      change = report.confusion_change(gender, output)
      if change is not None:
        rows.append([_text(output), _text(er.slice_name(gender)),
                     _text(report.change_title)] +
                    [Cell(text=content_lib.signed_count(getattr(change, attr)),
                          value=getattr(change, attr), output=output,
                          slice_name=er.slice_name(gender),
                          metric=f'confusion/{attr}', model=CHANGE)
                     for attr, _ in parts])
  names = {o: features.VALUE_NAMES[o] for o in report.outputs()}
  caption = '; '.join(f'{o}: positive = {n[1]}, negative = {n[0]}'
                      for o, n in names.items())
  return Table(header=['output', 'gender', 'model'] + [t for _, t in parts],
               rows=rows, caption=f'Counts at threshold 0.5 (TFMA). {caption}.')


def all_metrics_table(report: content_lib.ReportContent) -> Table:
  rows = []
  for row in report.rows():
    info = content_lib.METRIC_INFO[row.metric]
    rows.append([_text(row.output), _text(er.slice_name(row.slice_key)),
                 _text(info.title)] + metric_cells(report, row))
  return Table(header=['output', 'slice', 'metric'] +
               _model_headers(report, 'value'), rows=rows,
               caption='Every metric TFMA computed for these slices.' +
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


