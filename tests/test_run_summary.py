"""The end-of-run console summary on made-up artifacts (no pipeline run).

The per-cohort table shows TFMA's 95% interval beside each value, the worst
cohort's line says whether its gap to overall is beyond its interval, and the
summary says where the model card is. test_report_e2e.py checks the console
of a real run.
"""

import dataclasses

from ml_metadata.proto import metadata_store_pb2

from components.contracts import evaluation as er
from components.contracts import metric_names
from components.contracts import model_card as card_contract
from components.contracts import node_ids
from components.contracts import run_results
from components.report import content as report_content
from models import features
from pipeline import configs
from pipeline import eval_config
from pipeline import run_summary
from tests import evaluator_outputs


def _evaluation(tmp_path, intervals=True, metrics=None):
  metrics = metrics or evaluator_outputs.metrics_of(
      evaluator_outputs.fake_data(), intervals=intervals)
  config = eval_config.make_eval_config(dataclasses.replace(
      configs.SAMPLE, evaluation=dataclasses.replace(
          configs.SAMPLE.evaluation, confidence_intervals=intervals)))
  folder = evaluator_outputs.write_evaluation(
      str(tmp_path), {er.CANDIDATE: metrics}, eval_config=config)
  return er.load_evaluation(folder)


def _row(rows, output, slice_key):
  (row,) = [r for r in rows
            if r.startswith(f'{output:<7} {er.slice_name(slice_key):<20} ')]
  return row


def test_every_cohort_shows_its_interval(tmp_path):
  evaluation = _evaluation(tmp_path)
  rows = run_summary.cohort_table(evaluation)
  info = report_content.METRIC_INFO[metric_names.ACCURACY]
  for output in features.LABEL_KEYS:
    for key in [er.OVERALL] + evaluation.cohorts():
      m = evaluation.candidate()[key][output]
      row = _row(rows, output, key)
      text = (f'{info.fmt(m.get(metric_names.ACCURACY))} '
              f'{info.interval_text(m.interval(metric_names.ACCURACY))}')
      assert text in row, (row, text)
  assert rows[-1].startswith('In brackets: 95% intervals from TFMA '
                             '(jackknife)')
  assert sum('worst cohort:' in r for r in rows) == len(features.LABEL_KEYS)


def test_the_worst_cohort_says_whether_its_gap_is_beyond_its_interval(
    tmp_path):
  metrics = evaluator_outputs.metrics_of(evaluator_outputs.fake_data())
  worst = er.cohort_key(0, 0)
  overall = metrics[er.OVERALL][features.YOUNG_KEY].get(metric_names.ACCURACY)
  entry = metrics[worst][features.YOUNG_KEY]
  entry.values[metric_names.ACCURACY] = overall - 0.2
  entry.intervals[metric_names.ACCURACY] = er.Interval(overall - 0.3,
                                                       overall - 0.1)
  evaluation = _evaluation(tmp_path, metrics=metrics)
  rows = run_summary.cohort_table(evaluation)
  gap = evaluation.worst_cohort_gap(features.YOUNG_KEY)
  assert gap.cohort == worst and gap.beyond_interval
  (line,) = [r for r in rows if 'worst cohort: Non-Young x Female' in r]
  assert line.endswith('20.0 points below overall, beyond its 95% interval')
  male = evaluation.worst_cohort_gap(features.MALE_KEY)
  (line,) = [r for r in rows
             if f'worst cohort: {er.slice_name(male.cohort)},' in r]
  expected = {True: 'beyond its 95% interval',
              False: 'within its 95% interval',
              None: '(no interval to judge by)'}[male.beyond_interval]
  assert line.endswith(expected)


def test_without_intervals_the_table_keeps_its_columns(tmp_path):
  rows = run_summary.cohort_table(_evaluation(tmp_path, intervals=False))
  assert rows[0].split() == ['output', 'slice', 'examples', 'accuracy', 'FPR',
                             'FNR']
  assert not any('[' in r for r in rows)
  assert not any(r.startswith('In brackets') for r in rows)
  assert sum(r.endswith('(no interval to judge by)') for r in rows) == 2


def test_the_summary_says_where_the_model_card_is():
  artifact = metadata_store_pb2.Artifact(uri='/root/ModelCardGenerator/x/7')
  node = run_results.NodeExecution(
      node_id=node_ids.MODEL_CARD, state='COMPLETE',
      execution=metadata_store_pb2.Execution(), inputs={},
      outputs={'model_card': [artifact]})
  lines = run_summary._model_card_section(  # pylint: disable=protected-access
      run_results.RunResult(run_id='r', nodes={node_ids.MODEL_CARD: node}))
  assert lines[0] == ('Model card, viewable in a browser: '
                      f'/root/ModelCardGenerator/x/7/{card_contract.CARD_HTML}')
  assert f'schema {card_contract.SCHEMA_VERSION}' in lines[1]
  assert run_summary._model_card_section(  # pylint: disable=protected-access
      run_results.RunResult(run_id='r', nodes={})) == []
