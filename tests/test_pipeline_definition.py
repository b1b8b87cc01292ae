"""Tests for the DAG, its configs and its TFMA configuration (no execution)."""

import dataclasses
import json
import os
import shutil

import pytest
import tensorflow_data_validation as tfdv
import tensorflow_model_analysis as tfma
from tensorflow_metadata.proto.v0 import schema_pb2

import schema as schema_package
from components import artifacts
from components import evaluation_progress
from components import model_card
from components.baseline import component as served_baseline
from components.baseline import evaluator as baseline_evaluator
from components.report import component as slice_report
from models import features
from pipeline import configs
from pipeline import eval_config
from pipeline import pipeline
from components.contracts import metric_names
from components.contracts import node_ids


def _dag(config=configs.SAMPLE):
  return pipeline.create_pipeline(config, data_root='/data',
                                  pipeline_root='/root', serving_dir='/serve')


def _nodes(dag):
  return {node.id: node for node in dag.components}


def test_dag_has_every_stage_in_order():
  nodes = _nodes(_dag())
  for node_id in (node_ids.EXAMPLE_GEN, node_ids.STATISTICS_GEN,
                  node_ids.DATA_REPORT, node_ids.SCHEMA_GEN,
                  node_ids.CURATED_SCHEMA, node_ids.EXAMPLE_VALIDATOR,
                  node_ids.DATA_GATE, node_ids.TRANSFORM, node_ids.TRAINER,
                  node_ids.SERVED_BASELINE, node_ids.EVALUATOR,
                  node_ids.PUSHER, node_ids.SLICE_REPORT,
                  node_ids.MODEL_CARD):
    assert node_id in nodes
  # Nothing trains before the data gate has passed.
  assert node_ids.DATA_GATE in {
      n.id for n in nodes[node_ids.TRANSFORM].upstream_nodes
  }
  assert node_ids.TRAINER in {
      n.id for n in nodes[node_ids.SERVED_BASELINE].upstream_nodes
  }


def test_the_evaluator_logs_its_progress_through_its_user_module():
  evaluator = _nodes(_dag())[node_ids.EVALUATOR]
  assert evaluator.exec_properties['module_path'] == (
      evaluation_progress.__name__)


def test_the_model_card_follows_the_evaluator_and_reads_the_run():
  card = _nodes(_dag())[node_ids.MODEL_CARD]
  upstream = {n.id for n in card.upstream_nodes}
  assert upstream == {node_ids.EVALUATOR, node_ids.TRAINER,
                      node_ids.DATA_REPORT, node_ids.PUSHER}
  assert set(card.inputs) == {'evaluation', 'model', 'data_report',
                              'model_run', 'pushed_model'}
  (output,) = card.outputs.values()
  assert output.type is artifacts.ModelCard
  # The card's code (and the report code it plots with) is in its cache key.
  assert card.exec_properties['code_digest'] == pipeline.code_digest(
      model_card.PACKAGE_DIR, slice_report.PACKAGE_DIR,
      pipeline.CONTRACTS_DIR, pipeline.MODELS_DIR)
  noted = _nodes(pipeline.create_pipeline(
      configs.SAMPLE, data_root='/data', pipeline_root='/root',
      serving_dir='/serve', data_note='generated'))[node_ids.MODEL_CARD]
  assert noted.exec_properties['data_note'] == 'generated'


def test_transform_streams_instead_of_materializing():
  transform = _nodes(_dag())[node_ids.TRANSFORM]
  props = transform.exec_properties
  # materialize=False: no transformed_examples output at all.
  assert 'transformed_examples' not in transform.outputs
  assert props['disable_statistics'] == 1
  assert props['module_file'] is None  # imported by path, never uploaded
  assert props['preprocessing_fn'] == pipeline.PREPROCESSING_FN
  custom = json.loads(props['custom_config'])
  assert custom['image_size'] == configs.SAMPLE.model.image_size


def test_statistics_treat_the_image_as_bytes():
  """StatisticsGen reads the curated schema, where `image` has an
  image_domain: TFDV then keeps byte sizes, not every distinct JPEG."""
  statistics_gen = _nodes(_dag())[node_ids.STATISTICS_GEN]
  assert node_ids.CURATED_SCHEMA in {
      n.id for n in statistics_gen.upstream_nodes}
  schema = tfdv.load_schema_text(schema_package.SCHEMA_FILE)
  assert tfdv.get_feature(schema, 'image').HasField('image_domain')


def test_statistics_keep_no_value_counts_of_the_file_names():
  """Top-k and uniques come from TFDV's bounded sketches, which skip the
  non-categorical `image_id`: nothing in StatisticsGen holds every name."""
  options = tfdv.StatsOptions.from_json(
      _nodes(_dag())[node_ids.STATISTICS_GEN].exec_properties[
          'stats_options_json'])
  assert options.use_sketch_based_topk_uniques
  schema = tfdv.load_schema_text(schema_package.SCHEMA_FILE)
  assert tfdv.get_feature(schema, 'image_id').string_domain.is_categorical == (
      schema_pb2.StringDomain.CATEGORICAL_NO)


def test_trainer_gets_the_model_config_and_the_code_digest():
  trainer = _nodes(_dag())[node_ids.TRAINER]
  custom = json.loads(trainer.exec_properties['custom_config'])
  assert custom['model'] == dataclasses.asdict(configs.SAMPLE.model)
  assert custom['code_digest'] == pipeline.code_digest()
  assert trainer.exec_properties['run_fn'] == pipeline.RUN_FN


def test_code_digest_follows_the_model_code(tmp_path):
  models_dir = os.path.dirname(os.path.abspath(pipeline.model_module.__file__))
  copy = tmp_path / 'models'
  shutil.copytree(models_dir, copy)
  before = pipeline.code_digest(str(copy))
  (copy / '__pycache__').mkdir(exist_ok=True)
  (copy / '__pycache__' / 'losses.cpython-310.pyc').write_bytes(b'compiled')
  (copy / 'notes.txt').write_text('not code\n')
  assert pipeline.code_digest(str(copy)) == before
  with open(copy / 'losses.py', 'a') as f:
    f.write('\n# a change\n')
  assert pipeline.code_digest(str(copy)) != before


def test_baseline_is_the_served_model_other_than_the_candidate():
  nodes = _nodes(_dag())
  baseline = nodes[node_ids.SERVED_BASELINE]
  assert isinstance(baseline, served_baseline.ServedBaseline)
  # The Pusher's destination, unless the runner names another folder.
  assert baseline.exec_properties[served_baseline.SOURCE_KEY] == '/serve'
  candidate = baseline.inputs[served_baseline.MODEL_KEY]
  assert candidate.producer_component_id == node_ids.TRAINER
  evaluator = nodes[node_ids.EVALUATOR]
  assert isinstance(evaluator, baseline_evaluator.Evaluator)
  assert evaluator.inputs['baseline_model'].producer_component_id == (
      node_ids.SERVED_BASELINE)
  other = _nodes(pipeline.create_pipeline(
      configs.SAMPLE, data_root='/data', pipeline_root='/root',
      serving_dir='/serve', baseline_dir='/registry/celeba'))
  assert other[node_ids.SERVED_BASELINE].exec_properties[
      served_baseline.SOURCE_KEY] == '/registry/celeba'


def test_eval_config_scopes_thresholds_to_overall_and_cohorts():
  config = eval_config.make_eval_config(configs.SAMPLE)
  assert dict(config.model_specs[0].label_keys) == {'Male': 'Male',
                                                    'Young': 'Young'}
  assert len(config.slicing_specs) == 4
  for spec in config.metrics_specs:
    (output,) = spec.output_names
    accuracy = [m for m in spec.metrics if m.class_name == 'BinaryAccuracy']
    assert len(accuracy) == 1
    assert not accuracy[0].HasField('threshold')  # never on every slice
    overall, cohorts = accuracy[0].per_slice_thresholds
    assert list(overall.slicing_specs) == [tfma.SlicingSpec()]
    assert overall.threshold.value_threshold.lower_bound.value == (
        configs.SAMPLE.thresholds.accuracy_floor[output])
    assert overall.threshold.change_threshold.absolute.value == (
        -configs.SAMPLE.thresholds.max_accuracy_drop)
    assert len(cohorts.slicing_specs) == 4
    assert cohorts.threshold.value_threshold.lower_bound.value == (
        configs.SAMPLE.thresholds.cohort_accuracy_floor[output])
    names = {m.class_name for m in spec.metrics}
    assert {'MergeSafeBinaryCrossEntropy', 'AUC', 'Precision', 'Recall', 'FallOut',
            'MissRate', 'ExampleCount', 'ConfusionMatrixAtThresholds'} <= names


def test_eval_config_asks_for_intervals_and_the_rate_sweep():
  evaluation = configs.SAMPLE.evaluation
  config = eval_config.make_eval_config(configs.SAMPLE)
  assert config.options.compute_confidence_intervals.value
  assert config.options.confidence_intervals.method == (
      tfma.ConfidenceIntervalOptions.JACKKNIFE)
  for spec in config.metrics_specs:
    by_class = {m.class_name: [json.loads(c.config or '{}') for c in
                               spec.metrics if c.class_name == m.class_name]
                for m in spec.metrics}
    assert by_class['AUC'] == [
        {'num_thresholds': evaluation.auc_num_thresholds}]
    for class_name, name in (
        ('FallOut', metric_names.FALSE_POSITIVE_RATE_SWEEP),
        ('MissRate', metric_names.FALSE_NEGATIVE_RATE_SWEEP)):
      # The scalar at 0.5 stays; the sweep comes beside it, named.
      assert {} in by_class[class_name]
      assert {'thresholds': list(evaluation.rate_thresholds),
              'name': name} in by_class[class_name]
    for class_name in ('FalseDiscoveryRate', 'FalseOmissionRate'):
      assert by_class[class_name] == [{'thresholds': [0.5]}]
  off = dataclasses.replace(configs.SAMPLE, evaluation=dataclasses.replace(
      evaluation, confidence_intervals=False))
  assert not eval_config.make_eval_config(
      off).options.compute_confidence_intervals.value


def test_rate_thresholds_are_checked():
  assert configs.SAMPLE.evaluation.rate_thresholds == (
      0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
  assert configs.EvaluationOptions(rate_thresholds=[0.25, 0.75]
                                   ).rate_thresholds == (0.25, 0.75)
  for bad in ((), (0.0, 0.5), (0.5, 1.0), (0.6, 0.4), (0.5, 0.5)):
    with pytest.raises(ValueError, match='rate_thresholds'):
      configs.EvaluationOptions(rate_thresholds=bad)
  with pytest.raises(ValueError, match='auc_num_thresholds'):
    configs.EvaluationOptions(auc_num_thresholds=1)


def test_presets_follow_the_reference_on_celeba():
  model = configs.CELEBA.model
  assert (model.image_size, model.alpha, model.weights, model.epochs,
          model.batch_size) == (224, 1.0, 'imagenet', 5, 64)
  assert configs.SAMPLE.model.loss == 'weighted_bce'
  for preset in configs.PRESETS.values():
    assert set(preset.thresholds.accuracy_floor) == set(features.LABEL_KEYS)


def test_local_overrides_and_beam_args():
  config = configs.for_run('sample', explain=False, direct_num_workers=2,
                                 loss='bce', epochs=None)
  assert config.model.loss == 'bce'
  assert config.model.epochs == configs.SAMPLE.model.epochs
  assert not config.explain.enabled
  assert configs.local_beam_args(2) == [
      '--runner=FnApiRunner',
      '--direct_running_mode=multi_processing', '--direct_num_workers=2',
      f'--setup_file={configs.SETUP_FILE}']
  assert configs.local_beam_args(1, setup_file=None) == [
      '--runner=FnApiRunner', '--direct_num_workers=1']
  with pytest.raises(ValueError):
    configs.for_run('imagenet')
  with pytest.raises(ValueError):
    configs.ModelConfig(loss='focal')


def test_a_warm_start_trains_from_the_served_model():
  plain = _nodes(_dag())
  assert node_ids.WARM_START_MODEL not in plain
  assert 'base_model' not in plain[node_ids.TRAINER].inputs
  nodes = _nodes(_dag(configs.for_run('sample', warm_start=True)))
  start = nodes[node_ids.WARM_START_MODEL]
  assert not start.inputs  # no candidate before the Trainer
  assert start.exec_properties[served_baseline.SOURCE_KEY] == '/serve'
  base = nodes[node_ids.TRAINER].inputs['base_model']
  assert base.producer_component_id == node_ids.WARM_START_MODEL
