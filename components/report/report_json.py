"""The report's numbers as JSON (report.json), for tools and tests.

It holds exactly what the HTML and Markdown show, from the same content
object: per model its verdict, thresholds and context; per (output, slice,
metric) the value of each model, its 95% interval as TFMA wrote it
(unclipped) and the change; per (output, slice, rate) the threshold sweep;
per output the worst cohort's gap. NaN (TFMA's 'undefined', e.g. FPR on a
cohort without negatives) is written as null, so the file is standard JSON.
"""

import dataclasses
import json
import math
from typing import Any, Dict, List, Optional

from components.contracts import evaluation as er
from components.report import content as content_lib
from components.report import tables as tables_lib

FORMAT_VERSION = 2


def _num(value: Optional[float]) -> Optional[float]:
  if value is None:
    return None
  value = float(value)
  return None if math.isnan(value) else value


def _slice(key: er.SliceKey) -> Dict[str, Any]:
  return {'name': er.slice_name(key), 'key': [[k, v] for k, v in key]}


def _interval(interval: Optional[er.Interval]) -> Optional[Dict[str, Any]]:
  """TFMA's bounds as written; null without an interval."""
  if interval is None:
    return None
  return {'lower': _num(interval.lower), 'upper': _num(interval.upper),
          'estimable': interval.estimable}


def _sweeps(model: content_lib.ModelResult) -> List[Dict[str, Any]]:
  rows = []
  for (output, metric), thresholds in sorted(model.sweep_thresholds.items()):
    for key in content_lib.ALL_SLICES:
      values, intervals = model.sweep(key, output, metric)
      if not values:
        continue
      rows.append({'output': output, 'slice': _slice(key), 'metric': metric,
                   'thresholds': list(thresholds),
                   'values': [_num(v) for v in values],
                   'intervals': [_interval(i) for i in intervals]})
  return rows


def _gap(gap: Optional[er.CohortGap]) -> Optional[Dict[str, Any]]:
  if gap is None:
    return None
  return {'cohort': er.slice_name(gap.cohort), 'overall': _num(gap.overall),
          'value': _num(gap.value), 'gap': _num(gap.gap),
          'interval': _interval(gap.interval),
          'beyond_interval': gap.beyond_interval}


def _model(model: content_lib.ModelResult) -> Dict[str, Any]:
  record: Dict[str, Any] = {
      'name': model.name, 'description': model.description,
      'model_uri': model.model_uri, 'evaluation_uri': model.evaluation_uri,
      'run_id': model.run_id, 'verdict': None, 'push': None,
      'training': None, 'balance': None, 'explanation': None,
      'interval_method': model.interval_method,
  }
  if model.verdict is not None:
    record['verdict'] = {
        'blessed': model.verdict.blessed,
        'has_baseline': model.verdict.has_baseline,
        'baseline': (dataclasses.asdict(model.verdict.baseline)
                     if model.verdict.baseline is not None else None),
        'checks': [{
            'output': c.output, 'metric': c.metric,
            'slice': _slice(c.slice_key), 'is_change': c.is_change,
            'lower': c.bounds.lower, 'upper': c.bounds.upper,
            'relative': c.bounds.relative,
            'threshold': c.bound_text, 'observed': _num(c.observed),
            'status': c.status} for c in model.verdict.checks],
        'failures': [{
            'output': f.output, 'metric': f.metric, 'slice': _slice(
                f.slice_key), 'value': _num(f.value),
            'threshold': f.threshold, 'is_change': f.is_diff}
                     for f in model.verdict.failures],
    }
  if model.push is not None:
    record['push'] = dataclasses.asdict(model.push)
  if model.training is not None:
    record['training'] = dataclasses.asdict(model.training)
  if model.balance is not None:
    record['balance'] = {s: b.as_dict() for s, b in model.balance.items()}
  if model.explanation is not None:
    record['explanation'] = {
        'model_uri': model.explanation.model_uri,
        'pushed': model.explanation.pushed,
        'seconds': model.explanation.seconds,
        'figures': [{'section': f.section, 'title': f.title,
                     'caption': f.caption, 'path': f.path,
                     'embedded': f.png is not None}
                    for f in model.explanation.figures]}
  record['worst_cohort'] = {}
  for output in _outputs_of(model):
    worst = model.worst_cohort(output)
    record['worst_cohort'][output] = (er.slice_name(worst)
                                      if worst is not None else None)
  record['worst_cohort_gap'] = {output: _gap(model.worst_cohort_gap(output))
                                for output in _outputs_of(model)}
  record['sweeps'] = _sweeps(model)
  record['confusion'] = [
      {'output': output, 'slice': _slice(key),
       **{k: _num(v) for k, v in dataclasses.asdict(
           model.confusion(key, output)).items()}}
      for key in content_lib.ALL_SLICES if key in model.metrics
      for output in sorted(model.metrics[key])]
  return record


def _outputs_of(model: content_lib.ModelResult) -> List[str]:
  return sorted({o for by_output in model.metrics.values()
                 for o in by_output})


def to_dict(report: content_lib.ReportContent) -> Dict[str, Any]:
  names = [m.name for m in report.models]
  return {
      'format_version': FORMAT_VERSION,
      'title': report.title,
      'kind': report.kind,
      'note': report.note,
      'models': [_model(m) for m in report.models],
      'change': report.change_title or None,
      'metrics': [{
          'output': row.output, 'slice': _slice(row.slice_key),
          'metric': row.metric,
          'values': {n: _num(v) for n, v in zip(names, row.values)},
          'intervals': {n: _interval(i) for n, i in zip(
              names, row.intervals)},
          'meaningful': row.meaningful,
          'change': _num(row.change), 'change_source': row.change_source}
                  for row in report.rows()],
      'interval_legend': report.interval_legend() or None,
      'findings': (tables_lib.worst_cohort_lines(report) +
                   tables_lib.gap_lines(report)),
      'verdict': tables_lib.verdict_lines(report),
      'sections': list(content_lib.SECTIONS),
  }


def render(report: content_lib.ReportContent) -> str:
  return json.dumps(to_dict(report), indent=1, sort_keys=False)
