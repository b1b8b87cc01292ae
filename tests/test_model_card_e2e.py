"""The model card of a real default run: recorded in MLMD, valid against the
Model Card Toolkit's schema v0.0.2, holding the Evaluator's own values and
intervals for every output x cohort, and rendering in headless Chromium.

Shares the session's default run (tests/conftest.py). The screenshot is kept
in test-artifacts/ (ignored by git).
"""

import os

import pytest

from components import artifacts
from components.contracts import evaluation as er
from components.contracts import metric_names
from components.contracts import model_card as card_contract
from components.contracts import node_ids
from components.contracts import run_results
from components.model_card import render
from components.report import content as report_content
from models import features
from models import signatures
from tests import browser
from tests import pipeline_runs

pytestmark = pytest.mark.e2e

ARTIFACTS_DIR = os.path.join(pipeline_runs.REPO, 'test-artifacts')


@pytest.fixture(scope='module')
def card_run(default_run):
  run = default_run.result()
  node = run.nodes[node_ids.MODEL_CARD]
  (artifact,) = node.outputs['model_card']
  evaluation = er.load_evaluation(
      run.nodes[node_ids.EVALUATOR].output_uri('evaluation'))
  return run, node, artifact, evaluation, card_contract.read(artifact.uri)


def test_the_card_is_an_mlmd_artifact_of_the_run(default_run, card_run):
  run, node, artifact, _, _ = card_run
  assert node.state == 'COMPLETE'
  store = run_results.connect(default_run.metadata_path)
  (artifact_type,) = store.get_artifact_types_by_id([artifact.type_id])
  assert artifact_type.name == artifacts.ModelCard.TYPE_NAME
  for key, producer, output_key in (
      ('evaluation', node_ids.EVALUATOR, 'evaluation'),
      ('model', node_ids.TRAINER, 'model'),
      ('data_report', node_ids.DATA_REPORT, 'report'),
      ('pushed_model', node_ids.PUSHER, 'pushed_model')):
    assert node.inputs[key][0].uri == run.nodes[producer].output_uri(
        output_key), key


def test_the_real_card_is_valid_and_holds_the_evaluators_numbers(card_run):
  _, _, _, evaluation, card = card_run
  assert card_contract.problems(card) == []
  assert set(card) == set(card_contract.TOP_LEVEL_KEYS)
  assert evaluation.interval_method == 'jackknife'
  found = card_contract.performance_metrics(card)
  for output in features.LABEL_KEYS:
    for key in [er.OVERALL] + list(report_content.COHORT_SLICES):
      m = evaluation.candidate()[key][output]
      entry = found[(output, er.slice_name(key), metric_names.ACCURACY, None)]
      assert entry['value'] == m.get(metric_names.ACCURACY)
      interval = m.interval(metric_names.ACCURACY)
      if interval is not None and interval.finite:
        assert entry[card_contract.INTERVAL] == {
            card_contract.LOWER: interval.lower,
            card_contract.UPPER: interval.upper}
  details = card['model_details']
  assert details['overview'].startswith('GENERATED DATA.')
  params = card['model_parameters']
  for name in (signatures.SERVING_DEFAULT, signatures.SERVING_JPEG):
    assert f'{name}: ' in params['input_format']
  test_split = [d for d in params['data'] if d['name'].endswith('test split')]
  assert test_split and test_split[0]['description'].startswith(
      f'{evaluation.candidate()[er.OVERALL]["Male"].get("example_count"):.0f}'
      ' faces')


def test_the_real_card_renders_in_chromium(card_run):
  browser.require_chromium()
  _, _, artifact, _, card = card_run
  check = browser.open_in_chromium(
      os.path.join(artifact.uri, card_contract.CARD_HTML),
      os.path.join(ARTIFACTS_DIR, 'model-card-e2e.png'))
  assert check.images == len(
      card['quantitative_analysis']['graphics']['collection']) == 4
  assert check.broken == []
  assert check.sections == list(render.SECTIONS)
  assert check.console == [], check.console
