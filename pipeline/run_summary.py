"""What the user reads at the end of `python local_runner.py`.

Everything is read back from the run's MLMD store and its artifacts (the
DataReport, the Evaluator's metrics, intervals and blessing, the Pusher's
record, the report and the model card), so the console shows what the
pipeline recorded, not what the runner believes.
"""

import dataclasses
import errno
import math
import os
import re
from typing import List, Optional, Tuple

from tfx.types import standard_artifacts

from components import data_report
from components import data_validation_gate
from components import model_card
from components import report as slice_report
from components.celeba import errors as celeba_errors
from components.celeba import local_data
from components.contracts import evaluation as er
from components.contracts import label_balance
from components.contracts import metric_names
from components.contracts import node_ids
from components.contracts import push_record
from components.contracts import run_results
from components.report import content as report_content
from models import features
from models import run_record
from models import weights as weights_lib
from pipeline import exit_codes


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
  record = evaluation.baseline_record
  note = f': {record.note}' if record is not None and record.note else ''
  baseline = (f'against the baseline{note}' if evaluation.has_baseline
              else f'no baseline{note}; floors only')
  lines.append('')
  lines.append(f'Verdict: {"BLESSED" if blessed else "NOT BLESSED"} '
               f'({baseline})')
  for failure in evaluation.failures:
    lines.append(f'  - {failure.output} {failure.metric} on '
                 f'{er.slice_name(failure.slice_key)}: {failure.value:.3f}, '
                 f'needs {failure.threshold}')
  return lines


def _served(serving_dir: str) -> str:
  """What the serving folder holds now, in words."""
  versions = sorted((v for v in (os.listdir(serving_dir)
                                 if os.path.isdir(serving_dir) else [])
                     if v.isdigit()), key=int)
  if not versions:
    return 'nothing is being served yet'
  return (f'{os.path.join(serving_dir, versions[-1])} is still being served')


def _pusher_section(run: run_results.RunResult,
                    serving_dir: str) -> List[str]:
  node = run.get(node_ids.PUSHER)
  if node is None or 'pushed_model' not in node.outputs:
    return []
  record = push_record.read(node.outputs['pushed_model'][-1])
  if record.pushed:
    return ['Pushed to: ' + record.destination]
  return [f'Not pushed: the model did not pass validation; '
          f'{_served(serving_dir)}.']


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


@dataclasses.dataclass(frozen=True)
class Summary:
  """What the runner prints at the end and the exit status that goes with it.

  Attributes:
    text: the console summary.
    exit_status: exit_codes.PUSHED when a model was pushed,
      exit_codes.NOT_BLESSED when the run completed but the model was not.
    outputs: folders the text points at (the report, the pushed model).
  """
  text: str
  exit_status: int
  outputs: List[str]


def success(metadata_path: str, pipeline_name: str, run_id: str,
            serving_dir: str, synthetic: bool) -> Summary:
  """The end-of-run summary of run `run_id`."""
  store = run_results.connect(metadata_path)
  run = run_results.load_run(store, pipeline_name, run_id)
  lines = [f'Run {run.run_id}: {_states(run)}', '']
  lines += _balance_section(run)
  for section in (_class_weights_section(run), _evaluation_section(run),
                  _pusher_section(run, serving_dir),
                  _slice_report_section(run), _model_card_section(run)):
    if section:
      lines += [''] + section
  if synthetic:
    lines += ['', local_data.GENERATED_NOTE]
  pusher = run.get(node_ids.PUSHER)
  record = (push_record.read(pusher.outputs['pushed_model'][-1])
            if pusher is not None and pusher.outputs.get('pushed_model')
            else None)
  outputs = []
  report = run.get(node_ids.SLICE_REPORT)
  if report is not None and report.outputs.get('report'):
    outputs.append(report.output_uri('report'))
  card = run.get(node_ids.MODEL_CARD)
  if card is not None and card.outputs.get('model_card'):
    outputs.append(card.output_uri('model_card'))
  if record is not None and record.pushed:
    outputs.append(record.destination)
  pushed = record is not None and record.pushed
  if not pushed:
    lines += ['', f'Exit status {exit_codes.NOT_BLESSED}: the run completed, the '
              'model was not blessed.']
  status = exit_codes.PUSHED if pushed else exit_codes.NOT_BLESSED
  return Summary(text='\n'.join(lines),
                 exit_status=status,
                 outputs=outputs)


def _finished_and_current(run: run_results.RunResult) -> Tuple[List[str],
                                                                List[str]]:
  nodes = sorted(run.nodes.values(), key=lambda n: n.execution.id)
  finished = [n.node_id for n in nodes if n.state in ('COMPLETE', 'CACHED')]
  current = [n.node_id for n in nodes
             if n.state in ('RUNNING', 'NEW', 'UNKNOWN')]
  return finished, current


def _load(metadata_path: str, pipeline_name: str,
          run_id: str) -> Optional[run_results.RunResult]:
  if not os.path.exists(metadata_path):
    return None
  try:
    return run_results.load_run(run_results.connect(metadata_path),
                                pipeline_name, run_id)
  except LookupError:
    return None


def interrupted(metadata_path: str, pipeline_name: str, run_id: str,
                reason: str) -> str:
  """What an interrupted run got done, and that a rerun resumes."""
  run = _load(metadata_path, pipeline_name, run_id)
  finished, current = _finished_and_current(run) if run else ([], [])
  during = f' during {", ".join(current)}' if current else ''
  done = ', '.join(finished) if finished else 'nothing'
  return (f'Interrupted ({reason}){during}. Finished: {done}.\n'
          'Run the same command again to resume: finished components are '
          'reused from the cache, and the interrupted one is closed as '
          'abandoned and run again.')


def _causes(error: BaseException) -> List[BaseException]:
  chain, seen = [], set()
  while error is not None and id(error) not in seen:
    seen.add(id(error))
    chain.append(error)
    error = error.__cause__ or error.__context__
  return chain


def _first_line(error: BaseException) -> str:
  text = str(error).strip()
  return text.splitlines()[0] if text else type(error).__name__


def classify(error: Exception) -> Tuple[int, str]:
  """(exit status, one line) for an exception a run ended with."""
  chain = _causes(error)
  text = '\n'.join(str(e) for e in chain)
  for e in chain:
    if isinstance(e, OSError) and e.errno == errno.ENOSPC:
      where = f' writing {e.filename}' if e.filename else ''
      return exit_codes.FAILED, (f'the disk is full{where}: free some space '
                                 'and run again (finished components are '
                                 'reused)')
    if isinstance(e, data_validation_gate.DataAnomaliesError):
      return exit_codes.BAD_INPUT, 'the data does not match the curated schema'
    if isinstance(e, (weights_lib.WeightsUnavailableError,
                      celeba_errors.CelebAFormatError,
                      label_balance.EmptySplitError)):
      return exit_codes.BAD_INPUT, _first_line(e)
  # Beam wraps what its workers raise in errors of its own, with the
  # original's text inside.
  match = re.search(r'CorruptExamplesError: (.*?)( \[while running.*)?$', text,
                    flags=re.M)
  if match:
    return exit_codes.BAD_INPUT, match.group(1)
  if 'No space left on device' in text:
    return exit_codes.FAILED, ('the disk is full: free some space and run '
                               'again (finished components are reused)')
  return exit_codes.FAILED, _first_line(chain[-1])


def failure(metadata_path: str, pipeline_name: str, run_id: str,
            error: Exception, log_path: str = '') -> Tuple[int, str]:
  """(exit status, what went wrong) for run `run_id`, one message.

  With the anomalies when the data gate stopped the run.
  """
  status, message = classify(error)
  run = _load(metadata_path, pipeline_name, run_id)
  failed = ([n.node_id for n in run.nodes.values() if n.state == 'FAILED']
            if run else [])
  at = f' at {", ".join(failed)}' if failed else ''
  lines = [f'error: the run failed{at}: {message}']
  if run is not None:
    lines.append(f'Run {run.run_id}: {_states(run)}')
    validator = run.get(node_ids.EXAMPLE_VALIDATOR)
    if validator is not None and 'anomalies' in validator.outputs:
      anomalies = run_results.to_artifact(
          validator.outputs['anomalies'][-1],
          standard_artifacts.ExampleAnomalies)
      problems = data_validation_gate.describe(
          data_validation_gate.load_anomalies(anomalies))
      if problems:
        lines += ['', 'The data does not match the curated schema '
                  '(schema/schema.pbtxt); nothing was trained:']
        lines += [f'  - {p}' for p in problems]
    balance = _balance_section(run)
    if balance:
      lines += [''] + balance
  if log_path:
    lines += ['', f'The whole log, with the traceback: {log_path}']
  return status, '\n'.join(lines)
