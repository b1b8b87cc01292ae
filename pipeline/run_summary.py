"""What the user reads at the end of `python local_runner.py`.

Everything is read back from the run's MLMD store and its artifacts (the
DataReport, the Evaluator's metrics, intervals and blessing, the Pusher's
record, the report and the model card), so the console shows what the
pipeline recorded, not what the runner believes.
"""

import math
import os
from typing import List

from tfx.types import standard_artifacts

from components import data_report
from components import data_validation_gate
from components import model_card
from components import report as slice_report
from components.report import content as report_content
from components.celeba import local_data
from components.contracts import evaluation as er
from components.contracts import metric_names
from components.contracts import node_ids
from components.contracts import push_record
from components.contracts import run_results
from models import features
from models import run_record


def _balance_section(run: run_results.RunResult) -> List[str]:
  node = run.get(node_ids.DATA_REPORT)
  if node is None or 'report' not in node.outputs:
    return []
  uri = node.output_uri('report')
  with open(os.path.join(uri, data_report.BALANCE_MARKDOWN)) as f:
    text = f.read().strip()
  return [text.replace('# Label balance', 'Label balance (from StatisticsGen)'),
          f'Statistics, viewable in a browser: '
          f'{os.path.join(uri, data_report.STATISTICS_HTML)}']


def _states(run: run_results.RunResult) -> str:
  return ', '.join(f'{node.node_id} {node.state.lower()}'
                   for node in sorted(run.nodes.values(),
                                      key=lambda n: n.execution.id))


# Width of a value ('100.0%', 'n/a') and of a value with its interval
# ('100.0% [100.0, 100.0]').
_VALUE_WIDTH = 8
_WITH_INTERVAL_WIDTH = _VALUE_WIDTH + 16


def _with_interval(m: er.OutputMetrics, metric: str, width: int) -> str:
  """' 98.0% [96.2, 99.8]': TFMA's value and 95% interval, as the report
  prints them; 'n/a' where the value is undefined on the slice."""
  value = m.get(metric)
  if math.isnan(value):
    return f'{"n/a":>{_VALUE_WIDTH}}'.ljust(width)
  info = report_content.METRIC_INFO[metric]
  text = (f'{info.fmt(value):>{_VALUE_WIDTH}} '
          f'{info.interval_text(m.interval(metric))}').rstrip()
  return text.ljust(width)


def _gap_text(gap: er.CohortGap) -> str:
  points = f'{gap.gap * 100:.1f} points below overall'
  if gap.beyond_interval is None:
    return f'{points} (no interval to judge by)'
  if gap.beyond_interval:
    return f'{points}, beyond its 95% interval'
  return f'{points}, within its 95% interval'


def cohort_table(evaluation: er.Evaluation) -> List[str]:
  """Accuracy, FPR and FNR per output, overall and per cohort (test split),
  each with TFMA's 95% interval when the Evaluator computed intervals."""
  width = (_WITH_INTERVAL_WIDTH if evaluation.interval_method
           else _VALUE_WIDTH)
  titles = ' '.join(f'{title:>{_VALUE_WIDTH}}'.ljust(width)
                    for title in ('accuracy', 'FPR', 'FNR'))
  rows = [f'{"output":<7} {"slice":<20} {"examples":>8} {titles}'.rstrip()]
  candidate = evaluation.candidate()
  for output in features.LABEL_KEYS:
    for key in [er.OVERALL] + evaluation.cohorts():
      m = candidate[key][output]
      rows.append(
          f'{output:<7} {er.slice_name(key):<20} '
          f'{m.get(metric_names.EXAMPLE_COUNT):8.0f} '
          f'{_with_interval(m, metric_names.ACCURACY, width)} '
          f'{_with_interval(m, metric_names.FALSE_POSITIVE_RATE, width)} '
          f'{_with_interval(m, metric_names.FALSE_NEGATIVE_RATE, width)}'
          .rstrip())
    gap = evaluation.worst_cohort_gap(output)
    if gap is not None:
      rows.append(f'{"":<7} worst cohort: {er.slice_name(gap.cohort)}, '
                  + _gap_text(gap))
  if evaluation.interval_method:
    rows.append(f'In brackets: 95% intervals from TFMA ('
                f'{evaluation.interval_method}), in points; [n/e]: not '
                'estimable (no spread, e.g. no errors), not certainty.')
  return rows


def _class_weights_section(run: run_results.RunResult) -> List[str]:
  node = run.get(node_ids.TRAINER)
  if node is None or 'model_run' not in node.outputs:
    return []
  record = run_record.read(node.output_uri('model_run'))
  if record is None:
    return []
  parts = [f'{label} +{w["positive_weight"]:.2f}/-{w["negative_weight"]:.2f}'
           for label, w in record.class_weights.items()]
  return [f'Loss: {record.loss}; class weights from the train split: '
          + ', '.join(parts) + (' (not used by plain bce)'
                                if record.loss == 'bce' else '')]


def _evaluation_section(run: run_results.RunResult) -> List[str]:
  node = run.get(node_ids.EVALUATOR)
  if node is None or 'evaluation' not in node.outputs:
    return []
  evaluation = er.load_evaluation(node.output_uri('evaluation'))
  lines = ['Evaluation on the test split (TFMA):'] + cohort_table(evaluation)
  blessed = evaluation.validation_ok
  baseline = ('against the latest blessed model' if evaluation.has_baseline
              else 'no blessed model yet, so no change threshold')
  lines.append('')
  lines.append(f'Verdict: {"BLESSED" if blessed else "NOT BLESSED"} '
               f'({baseline})')
  for failure in evaluation.failures:
    lines.append(f'  - {failure.output} {failure.metric} on '
                 f'{er.slice_name(failure.slice_key)}: {failure.value:.3f}, '
                 f'needs {failure.threshold}')
  return lines


def _pusher_section(run: run_results.RunResult) -> List[str]:
  node = run.get(node_ids.PUSHER)
  if node is None or 'pushed_model' not in node.outputs:
    return []
  record = push_record.read(node.outputs['pushed_model'][-1])
  if record.pushed:
    return ['Pushed to: ' + record.destination]
  return ['Not pushed: the model did not pass validation; the serving folder '
          'keeps the previous model.']


def _slice_report_section(run: run_results.RunResult) -> List[str]:
  node = run.get(node_ids.SLICE_REPORT)
  if node is None or 'report' not in node.outputs:
    return []
  uri = node.output_uri('report')
  return [f'Slice report, viewable in a browser: '
          f'{os.path.join(uri, slice_report.REPORT_HTML)}',
          f'  (summary: {os.path.join(uri, slice_report.REPORT_MARKDOWN)})']


def _model_card_section(run: run_results.RunResult) -> List[str]:
  node = run.get(node_ids.MODEL_CARD)
  if node is None or 'model_card' not in node.outputs:
    return []
  uri = node.output_uri('model_card')
  return [f'Model card, viewable in a browser: '
          f'{os.path.join(uri, model_card.CARD_HTML)}',
          f'  ({model_card.CARD_JSON}: Model Card Toolkit schema '
          f'{model_card.SCHEMA_VERSION}; {model_card.CARD_MARKDOWN})']


def success(metadata_path: str, pipeline_name: str, synthetic: bool) -> str:
  """The end-of-run summary of the latest run."""
  store = run_results.connect(metadata_path)
  run = run_results.load_run(store, pipeline_name)
  lines = [f'Run {run.run_id}: {_states(run)}', '']
  lines += _balance_section(run)
  for section in (_class_weights_section(run), _evaluation_section(run),
                  _pusher_section(run), _slice_report_section(run),
                  _model_card_section(run)):
    if section:
      lines += [''] + section
  if synthetic:
    lines += ['', local_data.GENERATED_NOTE]
  return '\n'.join(lines)


def failure(metadata_path: str, pipeline_name: str,
            error: Exception) -> str:
  """What went wrong, with the anomalies when the data gate stopped the run."""
  lines = [f'The run failed: {error}']
  if not os.path.exists(metadata_path):
    return '\n'.join(lines)
  try:
    store = run_results.connect(metadata_path)
    run = run_results.load_run(store, pipeline_name)
  except LookupError:
    return '\n'.join(lines)
  lines.append(f'Run {run.run_id}: {_states(run)}')
  validator = run.get(node_ids.EXAMPLE_VALIDATOR)
  if validator is not None and 'anomalies' in validator.outputs:
    anomalies = run_results.to_artifact(validator.outputs['anomalies'][-1],
                                        standard_artifacts.ExampleAnomalies)
    problems = data_validation_gate.describe(
        data_validation_gate.load_anomalies(anomalies))
    if problems:
      lines += ['', 'The data does not match the curated schema '
                '(schema/schema.pbtxt); nothing was trained:']
      lines += [f'  - {p}' for p in problems]
  lines += [''] + _balance_section(run)
  return '\n'.join(lines)
