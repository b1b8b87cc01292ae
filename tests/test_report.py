"""Unit tests of the slice report on made-up metrics (no pipeline run).

The end-to-end tests (test_report_e2e.py) check the report against real
Evaluator outputs; these pin the rendering rules quickly: every section in
every kind of report, numbers that read back exactly, changes from TFMA's
diffs or as differences, the explanation contract, thresholds read from an
eval_config.json, a page with nothing to fetch.
"""

import base64
import json
import math
import os

import pytest

from components import artifacts
from components.contracts import evaluation as er
from components.contracts import label_balance
from components.contracts import push_record
from components import report as report_pkg
from components.report import component
from components.report import content as content_lib
from components.contracts import explanation as explanation_lib
from components.report import render_markdown
from tests import report_reading
from components.report import thresholds as thresholds_lib
from components.report import writer
from models import features
from models import run_record
from pipeline import configs
from pipeline import eval_config
from components.contracts import metric_names


def _balance():
  return {split: label_balance.SplitBalance(
      split=split, num_examples=100 * (i + 1),
      positive_rates={'Male': 0.4, 'Young': 0.77},
      cohort_counts={name: 25 * (i + 1) for name in features.cohort_names()})
          for i, split in enumerate(features.SPLITS)}


def _training(loss):
  return run_record.TrainingRecord(loss=loss, class_weights={
      'Male': {'positive_rate': 0.4, 'positive_weight': 1.25,
               'negative_weight': 0.83},
      'Young': {'positive_rate': 0.77, 'positive_weight': 0.65,
                'negative_weight': 2.17}}, hyperparameters={'loss': loss})


def _verdict(blessed=True):
  failures = [] if blessed else [er.ValidationFailure(
      slice_key=er.cohort_key(0, 0), output='Young',
      metric=metric_names.ACCURACY, value=0.35, threshold='>= 0.6')]
  return content_lib.Verdict(blessed=blessed, has_baseline=False, checks=[],
                             failures=failures)


def _model(name, seed, *, diffs=False, explanation=None, loss='weighted_bce',
           verdict=True):
  return content_lib.ModelResult(
      name=name, description=f'loss {loss}',
      metrics=report_reading.fake_metrics(seed, with_diffs=diffs),
      model_uri=f'/models/{name}', evaluation_uri=f'/eval/{name}',
      verdict=_verdict(verdict) if verdict is not None else None,
      training=_training(loss), balance=_balance(),
      push=push_record.PushRecord(pushed=bool(verdict), destination='/serving/1'
                              if verdict else ''),
      explanation=explanation,
      sweep_thresholds={(output, metric): configs.DEFAULT_RATE_THRESHOLDS
                        for output in features.LABEL_KEYS
                        for metric in metric_names.SWEEPS},
      interval_method='jackknife')


def _reports(explanation=None, compared_explanation=None):
  """kind -> report; the candidates carry `explanation`, the comparison's
  second model `compared_explanation` (default: the same)."""
  single = content_lib.ReportContent(
      title='single', kind=content_lib.SINGLE,
      models=[_model(er.CANDIDATE, 1, explanation=explanation)])
  baseline = content_lib.ReportContent(
      title='baseline', kind=content_lib.BASELINE,
      models=[_model(er.BASELINE, 2, verdict=None),
              _model(er.CANDIDATE, 1, diffs=True, explanation=explanation)])
  compared = content_lib.comparison(
      _model('A', 3, loss='bce', verdict=False),
      _model('B', 1, explanation=compared_explanation or explanation),
      title='compare')
  return {'single': single, 'baseline': baseline, 'compare': compared}


# The figure the comparison's explanation lacks (its file is removed).
MISSING_FIGURE = 'Integrated gradients, Non-Young x Female'


@pytest.fixture(scope='module')
def explanations(tmp_path_factory):
  """(record, folder) of a made-up explanation written through its
  contract, and the folder of the same with the file of MISSING_FIGURE
  removed."""
  complete = str(tmp_path_factory.mktemp('explanation'))
  record = report_reading.write_fake_explanation(complete)
  incomplete = str(tmp_path_factory.mktemp('explanation_incomplete'))
  missing = report_reading.write_fake_explanation(incomplete)
  (gone,) = [f['file'] for f in missing['figures']
             if f['title'] == MISSING_FIGURE]
  os.remove(os.path.join(incomplete, gone))
  return (record, complete), incomplete


@pytest.fixture(scope='module')
def reports(explanations):
  """The reports `written` wrote: the candidates explained, and one figure of
  the comparison's explanation missing."""
  (_, complete), incomplete = explanations
  return _reports(explanation=explanation_lib.load(complete),
                  compared_explanation=explanation_lib.load(incomplete))


@pytest.fixture(scope='module')
def written(reports, tmp_path_factory):
  """kind -> the folder `writer.write` wrote `reports[kind]` to; once per
  kind for every test reading it (the plots take seconds)."""
  root = tmp_path_factory.mktemp('reports')
  return {kind: (writer.write(report, str(root / kind)), str(root / kind))
          for kind, report in reports.items()}


@pytest.fixture(scope='module')
def pages(written):
  """kind -> the report's HTML, as written."""
  pages = {}
  for kind, (files, _) in written.items():
    with open(files.html) as f:
      pages[kind] = f.read()
  return pages


@pytest.mark.parametrize('kind', ['single', 'baseline', 'compare'])
def test_every_section_is_present(kind, reports, written):
  report = reports[kind]
  files, folder = written[kind]
  with open(files.html) as f:
    parsed = report_reading.parse_html(f.read())
  with open(files.markdown) as f:
    markdown = f.read()
  assert parsed.headings == list(content_lib.SECTIONS)
  assert report_reading.markdown_headings(markdown) == list(
      content_lib.SECTIONS)
  assert report_reading.load_json(folder)['kind'] == report.kind


@pytest.mark.parametrize('kind', ['single', 'baseline', 'compare'])
def test_html_numbers_read_back_exactly(kind, reports, pages):
  report = reports[kind]
  parsed = report_reading.parse_html(pages[kind])
  checked = 0
  for model in report.models:
    for key in content_lib.ALL_SLICES:
      for output in features.LABEL_KEYS:
        for info in content_lib.METRICS:
          cells = parsed.numbers.get(
              (output, er.slice_name(key), info.name, model.name), [])
          # A metric that says nothing on the slice may be left out.
          assert cells or not content_lib.meaningful(key, output, info.name), (
              model.name, key, output, info.name)
          expected = model.value(key, output, info.name)
          for value, text in cells:
            assert report_reading.same(value, expected)
            assert text == info.fmt(expected)
          interval = model.interval(key, output, info.name)
          for lower, upper, text in parsed.intervals.get(
              (output, er.slice_name(key), info.name, model.name), []):
            assert report_reading.same(lower, interval.lower)
            assert report_reading.same(upper, interval.upper)
            assert text == ('' if math.isnan(expected) else
                            info.interval_text(interval))
          checked += 1
        c = model.confusion(key, output)
        if key in content_lib.other_label_slices(output):
          for attr in ('tp', 'fp', 'tn', 'fn'):
            ((value, _),) = parsed.numbers[
                (output, er.slice_name(key), f'confusion/{attr}', model.name)]
            assert value == getattr(c, attr)
  assert checked == len(report.models) * 9 * 2 * len(content_lib.METRICS)


def test_baseline_changes_are_tfmas_diffs_and_compare_changes_differences(
    reports, pages):
  parsed = report_reading.parse_html(pages['baseline'])
  candidate = reports['baseline'].subject
  for key in content_lib.ALL_SLICES:
    for output in features.LABEL_KEYS:
      for name in (metric_names.ACCURACY, metric_names.FALSE_POSITIVE_RATE):
        if not content_lib.meaningful(key, output, name):
          continue
        (value, _), *_ = parsed.numbers[(output, er.slice_name(key), name,
                                         'change')]
        assert value == candidate.metrics[key][output].diffs[name]
  compared = reports['compare']
  data = json.loads(__import__('components.report.report_json',
                               fromlist=['render']).render(compared))
  for row in data['metrics']:
    a, b = row['values']['A'], row['values']['B']
    if a is None or b is None:
      assert row['change'] is None
    else:
      assert row['change'] == pytest.approx(b - a)
    assert row['change_source'] == content_lib.CHANGE_DIFFERENCE


def test_markdown_accuracy_table_matches_the_metrics(reports):
  report = reports['compare']
  tables = report_reading.markdown_tables(render_markdown.render(report))
  (accuracy,) = [t for t in tables if t[0][:3] == ['output', 'slice',
                                                    'examples']]
  a, b = report.models
  info = content_lib.METRIC_INFO[metric_names.ACCURACY]
  for output, slice_name, _, text_a, text_b, change in accuracy[1:]:
    key = next(k for k in content_lib.ALL_SLICES
               if er.slice_name(k) == slice_name)
    for text, model in ((text_a, a), (text_b, b)):
      assert text == (
          content_lib.percent(model.value(key, output, metric_names.ACCURACY))
          + ' ' + info.interval_text(model.interval(key, output,
                                                    metric_names.ACCURACY)))
    assert change == content_lib.percent_points(
        b.value(key, output, metric_names.ACCURACY) -
        a.value(key, output, metric_names.ACCURACY))
    assert '[' in text_a  # every accuracy of the fake data has an interval


def test_worst_cohort_is_named_and_marked(reports, pages):
  report = reports['single']
  model = report.subject
  markdown = render_markdown.render(report)
  for output in features.LABEL_KEYS:
    worst = min(content_lib.COHORT_SLICES,
                key=lambda k: model.value(k, output, metric_names.ACCURACY))
    assert model.worst_cohort(output) == worst
    assert f'{output}, candidate: worst cohort {er.slice_name(worst)}' in \
        markdown
  parsed = report_reading.parse_html(pages['single'])
  assert 'class="worst num"' in pages['single']
  assert parsed.numbers


def test_page_is_self_contained(pages):
  page = pages['compare']
  parsed = report_reading.parse_html(page)
  assert parsed.scripts == 0
  assert parsed.images
  for image in parsed.images:
    assert image['src'].startswith('data:image/png;base64,')
    assert base64.b64decode(image['src'].split(',', 1)[1])[:8] == \
        b'\x89PNG\r\n\x1a\n'
  for needle in ('http://', 'https://', '<link', '@import', 'url('):
    assert needle not in page


def test_explanation_figures_are_embedded_under_their_sections(
    explanations, written, pages):
  (record, folder), _ = explanations
  assert explanation_lib.load(folder).sections() == ['Latent space',
                                                     'Saliency']
  section = pages['single'].split(
      f'<h2>{content_lib.SECTION_EXPLANATION}</h2>', 1)[1]
  for figure in record['figures']:
    with open(os.path.join(folder, figure['file']), 'rb') as f:
      encoded = base64.b64encode(f.read()).decode()
    assert f'data:image/png;base64,{encoded}' in section
    heading = f'<h3>{figure["section"]} (candidate)</h3>'
    assert section.index(heading) < section.index(encoded)
  with open(written['single'][0].markdown) as f:
    markdown = f.read()
  assert ('- candidate, Saliency: Integrated gradients, Non-Young x Female; '
          'Grad-CAM, Young x Male') in markdown
  assert '- candidate, Latent space: UMAP of the embeddings by cohort' in \
      markdown


def test_a_missing_figure_is_reported_not_fatal(explanations, pages):
  _, incomplete = explanations
  assert explanation_lib.load(incomplete).sections() == [
      'Latent space', 'Saliency']
  assert f'Figure missing: {MISSING_FIGURE}' in pages['compare']
  assert 'Figure missing' not in pages['single']
  assert explanation_lib.load(os.path.join(incomplete, 'nothing-here')) is None
  assert explanation_lib.load('') is None


def test_component_declares_the_explanation_input_optional():
  spec = component.SliceReport.SPEC_CLASS
  assert spec.INPUTS['explanation'].optional
  assert spec.INPUTS['explanation'].type is artifacts.ModelExplanation
  for key in ('model_run', 'pushed_model'):
    assert spec.INPUTS[key].optional
  for key in ('evaluation', 'statistics'):
    assert not spec.INPUTS[key].optional
  assert spec.OUTPUTS['report'].type is artifacts.SliceReport


def _write_eval_config(folder, config, locations):
  from tensorflow_model_analysis.writers import eval_config_writer  # pylint: disable=g-import-not-at-top
  os.makedirs(folder, exist_ok=True)
  with open(os.path.join(folder, 'eval_config.json'), 'w') as f:
    f.write(eval_config_writer._serialize_eval_run(  # pylint: disable=protected-access
        config, 'data', 'tfrecords', locations))


def test_thresholds_come_from_the_evaluations_eval_config(tmp_path):
  """Floors of the run, not of configs.py; verdicts from the failures."""
  thresholds = configs.EvalThresholds(
      accuracy_floor={'Male': 0.81, 'Young': 0.72},
      cohort_accuracy_floor={'Male': 0.61, 'Young': 0.52},
      max_accuracy_drop=0.02)
  config = eval_config.make_eval_config(
      configs.PipelineConfig(name='x', model=configs.ModelConfig(),
                             thresholds=thresholds))
  _write_eval_config(str(tmp_path), config, {'candidate': '/m/c',
                                             'baseline': '/m/b'})
  recorded, locations = er.load_eval_run(str(tmp_path))
  failing = er.cohort_key(0, 0)
  evaluation = er.Evaluation(
      metrics={er.CANDIDATE: report_reading.fake_metrics(1, with_diffs=True),
               er.BASELINE: report_reading.fake_metrics(2)},
      validation_ok=False,
      failures=[er.ValidationFailure(failing, 'Young', metric_names.ACCURACY,
                                     0.3, '>= 0.52')],
      eval_config=recorded, model_locations=locations)
  checks = thresholds_lib.threshold_checks(evaluation)
  by_key = {(c.output, c.slice_key, c.is_change): c for c in checks}
  assert by_key[('Male', er.OVERALL, False)].bounds.lower == 0.81
  assert by_key[('Young', er.OVERALL, False)].bounds.lower == 0.72
  assert by_key[('Male', er.OVERALL, True)].bounds.lower == pytest.approx(-0.02)
  for key in content_lib.COHORT_SLICES:
    assert by_key[('Male', key, False)].bounds.lower == 0.61
    assert by_key[('Young', key, False)].bounds.lower == 0.52
    assert ('Male', key, True) not in by_key  # the drop is checked overall
  assert by_key[('Young', failing, False)].status == thresholds_lib.FAILED
  assert by_key[('Young', failing, False)].observed == \
      evaluation.candidate()[failing]['Young'].get(metric_names.ACCURACY)
  assert by_key[('Male', er.OVERALL, True)].observed == \
      evaluation.candidate()[er.OVERALL]['Male'].diffs[metric_names.ACCURACY]
  others = [c for c in checks if (c.output, c.slice_key) != ('Young', failing)]
  assert {c.status for c in others} == {thresholds_lib.PASSED}
  assert len(checks) == 2 * (1 + 1 + 4)
  assert locations == {'candidate': '/m/c', 'baseline': '/m/b'}


def test_report_file_names_are_stable():
  assert (report_pkg.REPORT_HTML, report_pkg.REPORT_MARKDOWN,
          report_pkg.REPORT_JSON) == ('report.html', 'report.md',
                                      'report.json')
  assert math.isnan(content_lib.ModelResult('x', '', {}).value(
      er.OVERALL, 'Male', metric_names.ACCURACY))


# --------------------------------------- intervals, thresholds and fixes


def test_sweeps_and_gaps_read_back_from_html_and_json(reports, pages):
  report = reports['single']
  model = report.subject
  parsed = report_reading.parse_html(pages['single'])
  data = json.loads(__import__('components.report.report_json',
                               fromlist=['render']).render(report))
  (record,) = data['models']
  sweeps = {(r['output'], r['slice']['name'], r['metric']): r
            for r in record['sweeps']}
  shown = 0
  for output in features.LABEL_KEYS:
    for metric in metric_names.SWEEPS:
      thresholds = model.thresholds(output, metric)
      for key in content_lib.ALL_SLICES:
        values, intervals = model.sweep(key, output, metric)
        row = sweeps[(output, er.slice_name(key), metric)]
        assert row['thresholds'] == list(thresholds)
        for i, (value, interval) in enumerate(zip(values, intervals)):
          assert report_reading.same(row['values'][i], value)
          assert report_reading.same(row['intervals'][i]['lower'],
                                     interval.lower)
          cells = parsed.numbers.get((output, er.slice_name(key),
                                      f'{metric}@{thresholds[i]:g}',
                                      model.name), [])
          for got, _ in cells:
            assert report_reading.same(got, value)
            shown += 1
          for lower, upper, _ in parsed.intervals.get(
              (output, er.slice_name(key), f'{metric}@{thresholds[i]:g}',
               model.name), []):
            assert report_reading.same(lower, interval.lower)
            assert report_reading.same(upper, interval.upper)
  assert shown >= 2 * 2 * 9 * 3  # overall and two cohorts per rate
  for output in features.LABEL_KEYS:
    gap = model.worst_cohort_gap(output)
    assert record['worst_cohort_gap'][output]['beyond_interval'] == (
        gap.beyond_interval)
    assert record['worst_cohort_gap'][output]['cohort'] == er.slice_name(
        gap.cohort)
  lines = [line for line in data['findings'] if 'points below the overall'
           in line]
  assert len(lines) == len(features.LABEL_KEYS)
  assert data['interval_legend'].startswith('In brackets: the 95% interval')


def test_slices_with_one_true_class_show_no_meaningless_numbers(
    reports, pages):
  """Male precision on the Female faces is 0% by construction: a dash."""
  report = reports['single']
  parsed = report_reading.parse_html(pages['single'])
  female = er.slice_name(((features.MALE_KEY, 0),))
  for metric in (metric_names.PRECISION, metric_names.AUC,
                 metric_names.FALSE_DISCOVERY_RATE,
                 metric_names.FALSE_OMISSION_RATE):
    assert ('Male', female, metric, er.CANDIDATE) not in parsed.numbers
  assert ('Male', female, metric_names.FALSE_POSITIVE_RATE,
          er.CANDIDATE) in parsed.numbers
  markdown = render_markdown.render(report)
  assert '| Male | Female | one true class | one true class |' in markdown


def test_confusion_matrices_are_split_by_the_other_attribute(reports):
  report = reports['single']
  table = __import__('components.report.tables',
                     fromlist=['confusion_table']).confusion_table(report)
  by_output = {}
  for row in table.rows:
    by_output.setdefault(row[0].text, set()).add(row[1].text)
  assert by_output == {'Male': {'Non-Young', 'Young'},
                       'Young': {'Female', 'Male'}}


def test_headers_never_break_mid_word_and_paths_may(pages):
  page = pages['compare']
  assert 'overflow-wrap: anywhere' not in page
  assert 'th { background: #f3f3f3; white-space: nowrap; }' in page
  assert '<td class="path">/models/A</td>' in page


def test_bar_labels_carry_one_decimal_and_the_axis_starts_near_the_data():
  from matplotlib.figure import Figure  # pylint: disable=g-import-not-at-top
  from components.report import plots  # pylint: disable=g-import-not-at-top
  ax = Figure().subplots()
  ax.set_ylim(0, 0.1)
  plots._grouped_bars(ax, ['a', 'b'], [[0.035, math.nan]], ['m'], ['#000'],  # pylint: disable=protected-access
                      [[er.Interval(0.01, 0.06), None]])
  assert [t.get_text() for t in ax.texts] == ['3.5%', 'n/a']
  assert plots.axis_floor([0.97, 0.895], [er.Interval(0.85, 0.94)]) == 0.8
  assert plots.axis_floor([0.3], [None]) == 0.25
  assert plots.axis_floor([0.02], [er.Interval(-0.1, 0.1)]) == 0.0
  errors = plots.error_lengths([0.98, 0.5], [er.Interval(0.9, 1.05), None])
  assert errors.tolist() == [[pytest.approx(0.08), 0.0],
                             [pytest.approx(0.02), 0.0]]


def test_interval_text_clips_for_display_and_names_what_it_cannot_show():
  info = content_lib.METRIC_INFO[metric_names.ACCURACY]
  assert info.interval_text(er.Interval(0.762, 1.05)) == '[76.2, 100.0]'
  assert info.interval_text(er.Interval(1.0, 1.0)) == '[n/e]'
  assert info.interval_text(er.Interval(math.nan, math.nan)) == '[n/a]'
  assert info.interval_text(None) == ''
  auc = content_lib.METRIC_INFO[metric_names.AUC]
  assert auc.interval_text(er.Interval(0.9512, 1.01)) == '[0.951, 1.000]'
