"""End-to-end: `python local_runner.py` on a tiny generated sample.

One default run (the `default_run` fixture) is read by most tests; the others
make their own runs: reruns that must be fully cached or not run at all,
and data that must stop the run at ExampleValidator (the run stopped by
SIGTERM and resumed is tests/test_weak_run_e2e.py).
"""

import glob
import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv

from components import data_report
from components.contracts import evaluation as er
from tests import celeba_files
from models import features
from pipeline import configs
from pipeline import exit_codes
from models import signatures
from tests import example_data
from components.contracts import run_results
from components.contracts import metric_names
from components.contracts import model_card
from components.contracts import node_ids
from tests import pipeline_runs

pytestmark = pytest.mark.e2e

DATA_STAGES = (node_ids.EXAMPLE_GEN, node_ids.STATISTICS_GEN,
               node_ids.DATA_REPORT, node_ids.SCHEMA_GEN,
               node_ids.CURATED_SCHEMA, node_ids.EXAMPLE_VALIDATOR,
               node_ids.DATA_GATE)
MODEL_STAGES = (node_ids.TRANSFORM, node_ids.TRAINER, node_ids.SERVED_BASELINE,
                node_ids.EVALUATOR, node_ids.PUSHER,
                node_ids.EXPLAINER,  # on by default; tests/test_explain_e2e.py
                node_ids.SLICE_REPORT, node_ids.MODEL_CARD)


def _run_of(run: pipeline_runs.Run) -> run_results.RunResult:
  """The run `run` made (the default run's store also gets a rerun)."""
  return run.result()


def _examples_by_split(data_root):
  return celeba_files.read_examples(data_root)


# ------------------------------------------------------------- data stages


def test_data_stages_are_recorded_in_mlmd(default_run):
  result = _run_of(default_run)
  for node_id in DATA_STAGES:
    assert node_id in result.nodes, f'{node_id} has no execution'
    assert result.nodes[node_id].state == 'COMPLETE', node_id
  stats = result.nodes[node_ids.STATISTICS_GEN].outputs['statistics'][0]
  assert json.loads(stats.properties['split_names'].string_value) == list(
      features.SPLITS)


def test_reported_label_rates_match_the_data(default_run, e2e_data_root):
  """The balance the user sees equals counts made independently here."""
  result = _run_of(default_run)
  report_dir = result.nodes[node_ids.DATA_REPORT].output_uri('report')
  with open(os.path.join(report_dir, data_report.BALANCE_JSON)) as f:
    reported = json.load(f)
  assert os.path.getsize(os.path.join(report_dir,
                                      data_report.STATISTICS_HTML)) > 10_000
  # The JPEGs got byte-size statistics (curated schema's image_domain), not
  # a top-k sketch that would hold every distinct image.
  stats_uri = result.nodes[node_ids.STATISTICS_GEN].output_uri('statistics')
  train_stats = tfdv.load_stats_binary(
      os.path.join(stats_uri, 'Split-train', 'FeatureStats.pb'))
  (image_stats,) = [f for f in train_stats.datasets[0].features
                    if f.path.step == ['image']]
  assert image_stats.WhichOneof('stats') == 'bytes_stats'
  # Nor are the file names counted: present in every example, no top-k.
  (id_stats,) = [f for f in train_stats.datasets[0].features
                 if f.path.step == ['image_id']]
  assert id_stats.string_stats.common_stats.num_non_missing == (
      train_stats.datasets[0].num_examples)
  assert not id_stats.string_stats.top_values
  assert not id_stats.string_stats.HasField('rank_histogram')
  examples = _examples_by_split(e2e_data_root)
  assert sum(len(v) for v in examples.values()) == (
      pipeline_runs.E2E_SAMPLE_IMAGES)
  for split in features.SPLITS:
    rows = list(examples[split].values())
    male = np.array([r['Male'] for r in rows])
    young = np.array([r['Young'] for r in rows])
    got = reported[split]
    assert got['num_examples'] == len(rows)
    assert got['positive_rates']['Male'] == pytest.approx(male.mean())
    assert got['positive_rates']['Young'] == pytest.approx(young.mean())
    for m, y in features.COHORTS:
      assert got['cohort_counts'][features.cohort_name(m, y)] == int(
          ((male == m) & (young == y)).sum())
    # And the console shows the same rates.
    assert f'| {split} | {len(rows)} | {male.mean():.1%} | {young.mean():.1%}' \
        in default_run.stdout
  # The generated sample reproduces CelebA's imbalance.
  assert 0.35 < reported['train']['positive_rates']['Male'] < 0.48
  assert 0.70 < reported['train']['positive_rates']['Young'] < 0.84
  assert 'not CelebA results' in default_run.stdout


def test_broken_data_stops_at_example_validator(tmp_path, e2e_data_root):
  """Labels outside {0, 1} pass the converter's checks but not the schema."""
  data = tmp_path / 'broken'
  shutil.copytree(e2e_data_root, data)
  bad = example_data.raw_examples(5, seed=3, male=[2, 2, 2, 0, 1],
                                young=[1, 1, 1, 1, 1])
  example_data.write_gzip_tfrecord(
      str(data / 'train' / 'zz-bad-00000.tfrecord.gz'), bad)
  run = pipeline_runs.run_local(str(tmp_path / 'out'),
                                ['--data_dir', str(data), '--preset', 'sample'])
  assert run.returncode == exit_codes.BAD_INPUT
  assert 'error: the run failed at DataValidationGate' in run.stderr
  assert "feature 'Male'" in run.stderr
  assert 'nothing was trained' in run.stderr
  assert 'train:' in run.stderr  # the split is named
  result = _run_of(run)
  assert result.nodes[node_ids.EXAMPLE_VALIDATOR].state == 'COMPLETE'
  assert result.nodes[node_ids.DATA_GATE].state == 'FAILED'
  for node_id in (node_ids.TRANSFORM, node_ids.TRAINER, node_ids.EVALUATOR,
                  node_ids.PUSHER):
    assert node_id not in result.nodes, f'{node_id} ran on broken data'
  assert not os.path.exists(run.serving_dir)


# ------------------------------------------------------ training and push


def test_every_stage_ran_and_the_model_was_pushed(default_run):
  result = _run_of(default_run)
  for node_id in DATA_STAGES + MODEL_STAGES:
    assert node_id in result.nodes, f'{node_id} has no execution'
    assert result.nodes[node_id].state == 'COMPLETE', node_id
  pushed = result.nodes[node_ids.PUSHER].outputs['pushed_model'][0]
  assert pushed.custom_properties['pushed'].int_value == 1
  destination = pushed.custom_properties['pushed_destination'].string_value
  assert destination.startswith(default_run.serving_dir)
  assert os.path.exists(os.path.join(destination, 'saved_model.pb'))
  assert 'Verdict: BLESSED' in default_run.stdout
  assert f'Pushed to: {destination}' in default_run.stdout
  card = result.nodes[node_ids.MODEL_CARD].output_uri('model_card')
  for name in (model_card.CARD_JSON, model_card.CARD_MARKDOWN,
               model_card.CARD_HTML):
    assert os.path.getsize(os.path.join(card, name)) > 1000, name
  assert (f'Model card, viewable in a browser: '
          f'{os.path.join(card, model_card.CARD_HTML)}') in default_run.stdout



def test_the_console_shows_the_run_not_the_libraries(default_run):
  """TensorFlow's, TFX's and Beam's output is in the run's log, not on the
  console, which shows components, progress and this run's summary."""
  console_text = default_run.stdout + default_run.stderr
  for noise in ('WARNING', 'Warning', 'Traceback', 'oneDNN', 'absl'):
    assert noise not in console_text, noise
  assert f'Run {default_run.run_id}:' in default_run.stdout
  assert f'{node_ids.TRAINER} done in' in default_run.stdout
  log = os.path.join(default_run.pipeline_root, 'logs',
                     default_run.run_id.replace(':', '') + '.log')
  with open(log) as f:
    assert 'Component Trainer is running.' in f.read()

def _evaluation(run: pipeline_runs.Run) -> er.Evaluation:
  node = _run_of(run).nodes[node_ids.EVALUATOR]
  return er.load_evaluation(node.output_uri('evaluation'))


def test_per_cohort_metrics_exist(default_run):
  evaluation = _evaluation(default_run)
  assert evaluation.validation_ok
  candidate = evaluation.candidate()
  cohorts = [er.cohort_key(m, y) for m, y in features.COHORTS]
  for key in [er.OVERALL] + cohorts:
    for output in features.LABEL_KEYS:
      metrics = candidate[key][output]
      for name in (metric_names.ACCURACY, metric_names.CROSS_ENTROPY,
                   metric_names.PRECISION, metric_names.RECALL,
                   metric_names.FALSE_POSITIVE_RATE,
                   metric_names.FALSE_NEGATIVE_RATE,
                   metric_names.EXAMPLE_COUNT):
        assert name in metrics.values, (key, output, name)
      c = metrics.confusion
      assert c.tp + c.fp + c.tn + c.fn == metrics.get(
          metric_names.EXAMPLE_COUNT)
  assert not np.isnan(candidate[er.OVERALL]['Male'].get(metric_names.AUC))
  for output in features.LABEL_KEYS:
    assert f'{output:<7} {"Non-Young x Male":<20}' in default_run.stdout


def _rate(errors: np.ndarray, among: np.ndarray) -> float:
  return float(errors[among].mean()) if among.any() else float('nan')


def test_tfma_cohort_accuracy_and_rates_equal_the_pushed_models_predictions(
    default_run, e2e_data_root):
  """Recompute accuracy, FPR and FNR at every threshold of the sweep, and FDR
  and FOR at 0.5, per cohort, from the pushed model on the test split."""
  pushed = sorted(glob.glob(os.path.join(default_run.serving_dir, '*')))[-1]
  serve = tf.saved_model.load(pushed).signatures[signatures.SERVING_DEFAULT]
  rows = list(_examples_by_split(e2e_data_root)['test'].values())
  serialized = [example_data.serialize(
      {features.IMAGE_KEY: [r['image']]}) for r in rows]
  predictions = {label: [] for label in features.LABEL_KEYS}
  for start in range(0, len(serialized), 64):
    out = serve(examples=tf.constant(serialized[start:start + 64]))
    for label in features.LABEL_KEYS:
      predictions[label].extend(out[label].numpy().ravel())
  male = np.array([r['Male'] for r in rows])
  young = np.array([r['Young'] for r in rows])
  evaluation = _evaluation(default_run)
  slices = [(er.OVERALL, np.ones(len(rows), bool))] + [
      (er.cohort_key(m, y), (male == m) & (young == y))
      for m, y in features.COHORTS]
  for label, truth in (('Male', male), ('Young', young)):
    p = np.array(predictions[label])
    positive = truth == 1
    for key, members in slices:
      tfma = evaluation.candidate()[key][label]
      # TFMA counts a probability above the threshold as positive.
      predicted = p > metric_names.DECISION_THRESHOLD
      correct = predicted == positive
      assert tfma.get(metric_names.ACCURACY) == pytest.approx(
          correct[members].mean(), abs=1e-9), (label, key)
      for metric, expected in (
          (metric_names.FALSE_DISCOVERY_RATE,
           _rate(~positive, members & predicted)),
          (metric_names.FALSE_OMISSION_RATE,
           _rate(positive, members & ~predicted))):
        assert tfma.get(metric) == pytest.approx(expected, abs=1e-9,
                                                 nan_ok=True), (label, key,
                                                                metric)
      for metric, among, errs in (
          (metric_names.FALSE_POSITIVE_RATE_SWEEP, ~positive, 'fp'),
          (metric_names.FALSE_NEGATIVE_RATE_SWEEP, positive, 'fn')):
        thresholds = evaluation.thresholds(label, metric)
        assert len(thresholds) == len(tfma.array(metric)) > 1
        for t, value in zip(thresholds, tfma.array(metric)):
          above = p > t
          errors = above if errs == 'fp' else ~above
          assert value == pytest.approx(
              _rate(errors, members & among), abs=1e-9, nan_ok=True), (
                  label, key, metric, t)


def test_unchanged_rerun_is_fully_cached(default_run):
  """Through TFX (--recheck), every component is found in its cache.

  The served model is now the candidate itself, which is no baseline: the
  baseline step makes the first run's choice again and is cached too.
  """
  rerun = pipeline_runs.run_local(default_run.output_root,
                                  ['--recheck']).check()
  result = _run_of(rerun)
  for node_id in DATA_STAGES + MODEL_STAGES:
    assert result.nodes[node_id].state == 'CACHED', node_id
  print(f'cached rerun took {rerun.seconds:.1f} s')
  assert 'Verdict: BLESSED' in rerun.stdout


def test_an_unchanged_rerun_stops_before_tfx_with_the_same_summary(
    default_run):
  """Nothing changed since the last complete run: no new run in MLMD, the
  same summary and exit status, in the time of a Python start-up."""
  store = run_results.connect(default_run.metadata_path)
  before = run_results.run_ids(store, configs.PIPELINE_NAME)
  last = pipeline_runs.run_local(default_run.output_root).check()
  assert last.run_id is None  # no run was recorded
  assert run_results.run_ids(store, configs.PIPELINE_NAME) == before
  assert 'Nothing changed since run' in last.stdout
  assert 'Verdict: BLESSED' in last.stdout
  assert 'Pushed to: ' in last.stdout
  print(f'up-to-date rerun took {last.seconds:.1f} s')
