"""End-to-end: the slice report of real runs of `local_runner.py`.

Two real runs serve every test here: the session's `default_run` (weighted
BCE, no baseline) and one `--loss bce --warm_start` run that starts from a
copy of the default run's MLMD store and serving folder, so it fine-tunes the
default model (the one served), its Evaluator has that model as baseline and
its unchanged data stages are cached, while the default run's own output root
stays untouched for the other end-to-end tests. That is the reference
study's sequence with the losses the other way round.

Every number the report shows is read back (HTML data attributes, Markdown
tables, report.json) and compared with what TFMA wrote, read independently
through components.contracts.evaluation.
"""

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys

import pytest

from components import artifacts
from components.baseline import component as served_baseline
from components.baseline import served
from components import data_report
from components.contracts import evaluation as er
from components.report import component
from components.report import __main__ as report_cli
from components.report import content as content_lib
from tests import browser
from tests import report_reading
from components.report import thresholds as thresholds_lib
from models import features
from models import run_record
from components.contracts import run_results
from components.contracts import metric_names
from components.contracts import node_ids
from tests import pipeline_runs

pytestmark = pytest.mark.e2e

ARTIFACTS_DIR = os.path.join(pipeline_runs.REPO, 'test-artifacts')


@pytest.fixture(scope='module')
def bce_run(default_run, e2e_data_root, tmp_path_factory
            ) -> pipeline_runs.Run:
  """`--loss bce --warm_start` with the default run's history: the default
  model, served, is the starting point and the baseline. The one extra real
  run of these tests."""
  root = tmp_path_factory.mktemp('bce_run')
  os.makedirs(root / 'pipeline_root')
  shutil.copy(default_run.metadata_path, root / 'pipeline_root')
  shutil.copytree(default_run.serving_dir, root / 'serving_model')
  # The default run's explanation serves the explainer's tests. Two epochs
  # of fine-tuning: these tests read the report, the comparison and where
  # training started, none of which depends on the schedule's length.
  return pipeline_runs.run_local(
      str(root), ['--loss', 'bce', '--warm_start', '--no_explain',
                  '--epochs', '2', '--data_dir', e2e_data_root]).check()


def _run(run: pipeline_runs.Run) -> run_results.RunResult:
  """The run `run` made, not a later (cached) rerun in the same store."""
  return run.result()


def _report_dir(run: pipeline_runs.Run) -> str:
  return _run(run).nodes[node_ids.SLICE_REPORT].output_uri('report')


def _evaluation_uri(run: pipeline_runs.Run) -> str:
  return _run(run).nodes[node_ids.EVALUATOR].output_uri('evaluation')


def _read(path: str) -> str:
  with open(path, encoding='utf-8') as f:
    return f.read()


def _assert_numbers_match(folder: str,
                          expected: dict, tol: float = 0.0) -> int:
  """Every metric cell, confusion count and JSON value equals TFMA's.

  `expected`: model name in the report -> {slice: {output: OutputMetrics}}.
  """
  parsed = report_reading.parse_html(_read(os.path.join(folder, 'report.html')))
  data = report_reading.load_json(folder)
  json_rows = {(r['output'], r['slice']['name'], r['metric']): r
               for r in data['metrics']}
  checked = 0
  for model, by_slice in expected.items():
    for key in content_lib.ALL_SLICES:
      for output in features.LABEL_KEYS:
        tfma_metrics = by_slice[key][output]
        for info in content_lib.METRICS:
          want = tfma_metrics.get(info.name)
          cells = parsed.numbers.get((output, er.slice_name(key), info.name,
                                      model), [])
          # A metric that says nothing on the slice may be left out.
          assert cells or not content_lib.meaningful(key, output, info.name), (
              model, key, output, info.name)
          for value, text in cells:
            assert report_reading.same(value, want, tol), (model, key, output,
                                                    info.name, value, want)
            if tol == 0.0:
              assert text == info.fmt(want)
          got = json_rows[(output, er.slice_name(key), info.name)][
              'values'][model]
          assert report_reading.same(got, want, tol), (model, key, info.name)
          checked += 1
        if key in content_lib.other_label_slices(output):
          for attr in ('tp', 'fp', 'tn', 'fn'):
            ((value, _),) = parsed.numbers[(output, er.slice_name(key),
                                            f'confusion/{attr}', model)]
            assert value == getattr(tfma_metrics.confusion, attr)
  return checked


def _headings(folder: str):
  html_headings = report_reading.parse_html(
      _read(os.path.join(folder, 'report.html'))).headings
  md_headings = report_reading.markdown_headings(
      _read(os.path.join(folder, 'report.md')))
  return html_headings, md_headings


# --------------------------------------------------- the in-pipeline report


def test_the_report_is_an_mlmd_artifact_named_on_the_console(default_run):
  run = _run(default_run)
  node = run.nodes[node_ids.SLICE_REPORT]
  assert node.state == 'COMPLETE'
  (report,) = node.outputs['report']
  store = run_results.connect(default_run.metadata_path)
  (artifact_type,) = store.get_artifact_types_by_id([report.type_id])
  assert artifact_type.name == artifacts.SliceReport.TYPE_NAME
  assert node.inputs['evaluation'][0].uri == _evaluation_uri(default_run)
  for key, producer, output_key in (
      ('statistics', node_ids.STATISTICS_GEN, 'statistics'),
      ('model_run', node_ids.TRAINER, 'model_run'),
      ('pushed_model', node_ids.PUSHER, 'pushed_model')):
    assert node.inputs[key][0].uri == run.nodes[producer].output_uri(
        output_key), key
  for name in ('report.html', 'report.md', 'report.json'):
    assert os.path.getsize(os.path.join(report.uri, name)) > 1000, name
  assert report.custom_properties['blessed'].int_value == 1
  assert (f'Slice report, viewable in a browser: '
          f'{os.path.join(report.uri, "report.html")}') in default_run.stdout
  # One cohort table on the console, not two.
  assert default_run.stdout.count('worst cohort:') == len(features.LABEL_KEYS)


def test_report_numbers_equal_the_evaluators(default_run):
  folder = _report_dir(default_run)
  evaluation = er.load_evaluation(_evaluation_uri(default_run))
  assert not evaluation.has_baseline
  checked = _assert_numbers_match(folder, {er.CANDIDATE:
                                           evaluation.candidate()})
  assert checked == 9 * 2 * len(content_lib.METRICS)
  # The Markdown accuracy table shows the same values.
  tables = report_reading.markdown_tables(
      _read(os.path.join(folder, 'report.md')))
  (accuracy,) = [t for t in tables if t[0][:3] == ['output', 'slice',
                                                    'examples']]
  for output, slice_name, count, text in accuracy[1:]:
    key = next(k for k in content_lib.ALL_SLICES
               if er.slice_name(k) == slice_name)
    m = evaluation.candidate()[key][output]
    info = content_lib.METRIC_INFO[metric_names.ACCURACY]
    # The value and TFMA's interval; the worst cohort in bold.
    assert text.strip('*') == (
        f'{content_lib.percent(m.get(metric_names.ACCURACY))} '
        f'{info.interval_text(m.interval(metric_names.ACCURACY))}').strip()
    assert count == f'{m.get(metric_names.EXAMPLE_COUNT):.0f}'
  # The worst cohort is TFMA's lowest accuracy, as the console says.
  data = report_reading.load_json(folder)
  (model,) = data['models']
  for output in features.LABEL_KEYS:
    assert model['worst_cohort'][output] == er.slice_name(
        evaluation.worst_cohort(output))


def test_the_verdict_and_thresholds_are_the_runs(default_run):
  """Thresholds as in the run's eval_config.json; verdict as TFMA's."""
  folder = _report_dir(default_run)
  evaluation_uri = _evaluation_uri(default_run)
  evaluation = er.load_evaluation(evaluation_uri)
  (model,) = report_reading.load_json(folder)['models']
  verdict = model['verdict']
  assert verdict['blessed'] is True is evaluation.validation_ok
  with open(os.path.join(evaluation_uri, 'eval_config.json')) as f:
    written = json.load(f)['evalConfig']
  expected = set()
  for spec in written['metricsSpecs']:
    (output,) = spec['outputNames']
    for metric in spec['metrics']:
      for per_slice in metric.get('perSliceThresholds', []):
        bound = per_slice['threshold']['valueThreshold']['lowerBound']
        for slicing in per_slice['slicingSpecs']:
          values = slicing.get('featureValues', {})
          name = (features.cohort_name(int(values['Male']),
                                       int(values['Young']))
                  if values else 'Overall')
          expected.add((output, name, bound))
  got = {(c['output'], c['slice']['name'], c['lower'])
         for c in verdict['checks'] if not c['is_change']}
  assert got == expected and len(got) == 10
  assert all(c['status'] == thresholds_lib.PASSED for c in verdict['checks'])
  for c in verdict['checks']:
    key = next(k for k in content_lib.ALL_SLICES
               if er.slice_name(k) == c['slice']['name'])
    assert c['observed'] == evaluation.candidate()[key][c['output']].get(
        c['metric'])
  # Push, class weights and balance as the other components recorded them.
  pushed = _run(default_run).nodes[node_ids.PUSHER].outputs['pushed_model'][0]
  assert model['push'] == {
      'pushed': True, 'destination':
          pushed.custom_properties['pushed_destination'].string_value}
  trainer = _run(default_run).nodes[node_ids.TRAINER]
  with open(os.path.join(trainer.output_uri('model_run'),
                         run_record.CLASS_WEIGHTS_FILE)) as f:
    weights = json.load(f)
  assert model['training']['loss'] == weights['loss'] == 'weighted_bce'
  assert model['training']['class_weights'] == weights['labels']
  balance_dir = _run(default_run).nodes[node_ids.DATA_REPORT].output_uri(
      'report')
  with open(os.path.join(balance_dir, data_report.BALANCE_JSON)) as f:
    assert model['balance'] == json.load(f)
  markdown = _read(os.path.join(folder, 'report.md'))
  assert 'candidate: BLESSED (no baseline' in markdown
  assert 'not CelebA results' in markdown  # the generated sample is labelled


def test_every_section_is_present_without_a_baseline(default_run):
  folder = _report_dir(default_run)
  assert report_reading.load_json(folder)['kind'] == content_lib.SINGLE
  html_headings, md_headings = _headings(folder)
  assert html_headings == md_headings == list(content_lib.SECTIONS)


def test_the_component_embeds_an_explanation(default_run, tmp_path):
  """The real component code, with the optional ModelExplanation input set."""
  from tfx.types import standard_artifacts  # pylint: disable=g-import-not-at-top
  run = _run(default_run)

  def artifact(node_id, key, cls):
    a = cls()
    a.set_mlmd_artifact(run.nodes[node_id].outputs[key][-1])
    return a

  explanation = artifacts.ModelExplanation()
  explanation.uri = str(tmp_path / 'explanation')
  record = report_reading.write_fake_explanation(explanation.uri)
  report = artifacts.SliceReport()
  report.uri = str(tmp_path / 'report')
  inputs = {
      'evaluation': [artifact(node_ids.EVALUATOR, 'evaluation',
                              standard_artifacts.ModelEvaluation)],
      'statistics': [artifact(node_ids.STATISTICS_GEN, 'statistics',
                              standard_artifacts.ExampleStatistics)],
      'explanation': [explanation],
  }
  executor = component.SliceReport.EXECUTOR_SPEC.executor_class()
  executor.Do(inputs, {'report': [report]}, {'title': 'With explanation',
                                             'note': ''})
  page = _read(os.path.join(report.uri, 'report.html'))
  parsed = report_reading.parse_html(page)
  assert len(parsed.images) >= len(record['figures']) + 6
  for figure in record['figures']:
    assert figure['title'] in page
  markdown = _read(os.path.join(report.uri, 'report.md'))
  assert '- candidate, Latent space: UMAP of the embeddings by cohort' in \
      markdown
  # Without model_run and pushed_model the report says so, and still has
  # every section.
  assert 'push not recorded' in markdown
  assert report_reading.markdown_headings(markdown) == list(
      content_lib.SECTIONS)


# ------------------------------------------------------ against a baseline


def test_report_against_the_baseline(default_run, bce_run):
  folder = _report_dir(bce_run)
  evaluation = er.load_evaluation(_evaluation_uri(bce_run))
  assert evaluation.has_baseline
  data = report_reading.load_json(folder)
  assert data['kind'] == content_lib.BASELINE
  assert [m['name'] for m in data['models']] == [er.BASELINE, er.CANDIDATE]
  _assert_numbers_match(folder, {er.BASELINE: evaluation.baseline(),
                                 er.CANDIDATE: evaluation.candidate()})
  # Changes are TFMA's own diffs, and equal the difference of the two values.
  diffs = 0
  for row in data['metrics']:
    key = next(k for k in content_lib.ALL_SLICES
               if er.slice_name(k) == row['slice']['name'])
    tfma_diff = evaluation.candidate()[key][row['output']].diffs.get(
        row['metric'])
    if tfma_diff is not None:
      assert report_reading.same(row['change'], tfma_diff)
      assert row['change_source'] == content_lib.CHANGE_FROM_TFMA
      diffs += 1
    values = row['values']
    if None not in values.values():
      assert row['change'] == pytest.approx(
          values[er.CANDIDATE] - values[er.BASELINE], abs=1e-6)
  assert diffs > 0
  # Counts are the candidate's own, not TFMA's count diffs; the change rows
  # are those diffs.
  parsed = report_reading.parse_html(_read(os.path.join(folder, 'report.html')))
  for key in content_lib.ALL_SLICES:
    for output in features.LABEL_KEYS:
      m = evaluation.candidate()[key][output]
      c = m.confusion
      assert c.tp + c.fp + c.tn + c.fn == m.get(metric_names.EXAMPLE_COUNT)
      if key in content_lib.other_label_slices(output):
        base = evaluation.baseline()[key][output].confusion
        for attr in ('tp', 'fp', 'tn', 'fn'):
          ((value, _),) = parsed.numbers[(output, er.slice_name(key),
                                          f'confusion/{attr}', 'change')]
          assert value == getattr(m.confusion_diff, attr) == (
              getattr(c, attr) - getattr(base, attr))
  # The baseline is the default run's model on the same test split.
  default = er.load_evaluation(_evaluation_uri(default_run)).candidate()
  _assert_numbers_match(folder, {er.BASELINE: default}, tol=1e-6)
  # The verdict: TFMA's, with the change threshold now checked.
  verdict = data['models'][1]['verdict']
  assert verdict['blessed'] == evaluation.validation_ok
  assert verdict['has_baseline']
  change_checks = [c for c in verdict['checks'] if c['is_change']]
  assert {c['output'] for c in change_checks} == set(features.LABEL_KEYS)
  failed_changes = {f.output for f in evaluation.failures if f.is_diff}
  for c in change_checks:
    assert (c['status'] == thresholds_lib.FAILED) == (
        c['output'] in failed_changes)
  html_headings, md_headings = _headings(folder)
  assert html_headings == md_headings == list(content_lib.SECTIONS)
  markdown = _read(os.path.join(folder, 'report.md'))
  assert 'change (candidate - baseline)' in markdown
  assert 'Slice report, viewable in a browser:' in bce_run.stdout


def test_the_warm_start_began_at_the_served_model(default_run, bce_run):
  """WarmStartModel handed the Trainer the model the default run pushed
  (every file the same), and the Trainer recorded that it started there."""
  run = _run(bce_run)
  found = run.nodes[node_ids.WARM_START_MODEL].output_uri(
      served_baseline.BASELINE_KEY)
  with open(os.path.join(run.nodes[node_ids.TRAINER].output_uri('model_run'),
                         run_record.HPARAMS_FILE)) as f:
    hparams = json.load(f)
  assert hparams['warm_start'] is True
  start = hparams['warm_started_from']
  assert start and os.path.commonpath([start, found]) == found
  pushed = _run(default_run).nodes[node_ids.PUSHER].outputs['pushed_model'][0]
  assert served.content_digest(start) == served.content_digest(
      pushed.custom_properties['pushed_destination'].string_value)


# ------------------------------------------------------- A vs B, two runs


def _run_compare(args, in_process=True):
  """`python -m components.report compare ARGS`: its exit status and output.

  In this process unless asked (`components.report.__main__.main`, which the
  command runs): the command line itself is run once as a program, in
  test_compare_explains_a_bad_reference_and_refuses_itself.
  """
  if not in_process:
    return subprocess.run(
        [sys.executable, '-m', 'components.report', 'compare', *args],
        cwd=pipeline_runs.REPO, capture_output=True, text=True, timeout=600,
        stdin=subprocess.DEVNULL,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  out, err = io.StringIO(), io.StringIO()
  with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    status = report_cli.main(['compare', *args])
  return subprocess.CompletedProcess(args, status, out.getvalue(),
                                     err.getvalue())


def _compare(args):
  proc = _run_compare(args)
  assert proc.returncode == 0, proc.stderr[-4000:]
  return proc


def test_compare_two_real_runs(default_run, bce_run, tmp_path):
  weighted = er.load_evaluation(_evaluation_uri(default_run)).candidate()
  bce = er.load_evaluation(_evaluation_uri(bce_run)).candidate()
  by_index = tmp_path / 'by_index'
  proc = _compare(['-2', '-1', '--metadata', bce_run.metadata_path,
                   '--names', 'weighted', 'bce',
                   '--output_dir', str(by_index)])
  assert f'Report, viewable in a browser: {by_index}/report.html' in \
      proc.stdout
  data = report_reading.load_json(str(by_index))
  assert data['kind'] == content_lib.COMPARE
  assert [m['name'] for m in data['models']] == ['weighted', 'bce']
  assert [m['training']['loss'] for m in data['models']] == [
      'weighted_bce', 'bce']
  _assert_numbers_match(str(by_index), {'weighted': weighted, 'bce': bce})
  for row in data['metrics']:
    values = row['values']
    assert row['change_source'] == content_lib.CHANGE_DIFFERENCE
    if None not in values.values():
      assert row['change'] == values['bce'] - values['weighted']
  html_headings, md_headings = _headings(str(by_index))
  assert html_headings == md_headings == list(content_lib.SECTIONS)
  assert 'not CelebA results' in data['note']

  # The same comparison from the two Evaluator folders (each run's context
  # found in the metadata.sqlite above it) says the same.
  by_path = tmp_path / 'by_path'
  _compare([_evaluation_uri(default_run), _evaluation_uri(bce_run),
            '--names', 'weighted', 'bce', '--output_dir', str(by_path)])
  other = report_reading.load_json(str(by_path))
  assert other['metrics'] == data['metrics']
  assert [m['run_id'] for m in other['models']] == [
      _run(default_run).run_id, _run(bce_run).run_id]
  assert [m['verdict'] for m in other['models']] == [
      m['verdict'] for m in data['models']]


def test_compare_explains_a_bad_reference_and_refuses_itself(bce_run):
  proc = _run_compare(['-9', '-1', '--metadata', bce_run.metadata_path],
                      in_process=False)
  assert proc.returncode == 2
  assert 'error: run -9: the store has only' in proc.stderr
  same = _run_compare(['-1', '-1', '--metadata', bce_run.metadata_path])
  assert same.returncode == 2
  assert 'are the same evaluation' in same.stderr


# ------------------------------------------------------------- in a browser


def _check_in_browser(html_path: str, screenshot_name: str) -> None:
  browser.require_chromium()
  check = browser.open_in_chromium(
      html_path, os.path.join(ARTIFACTS_DIR, screenshot_name))
  assert check.broken == [] and check.images >= 6, check
  assert all(width > 0 for width in check.widths)
  assert check.tables >= 8 and check.cells > 100
  assert check.sections == list(content_lib.SECTIONS)
  assert check.console == [], check.console
  assert os.path.getsize(check.screenshot) > 10_000


def test_the_reports_render_in_chromium(default_run, bce_run, tmp_path):
  _check_in_browser(os.path.join(_report_dir(default_run), 'report.html'),
                    'report-default-run.png')
  _check_in_browser(os.path.join(_report_dir(bce_run), 'report.html'),
                    'report-against-baseline.png')
  out = tmp_path / 'compare'
  _compare(['-2', '-1', '--metadata', bce_run.metadata_path,
            '--output_dir', str(out)])
  _check_in_browser(str(out / 'report.html'), 'report-compare.png')
