"""Unit tests of the model card on made-up artifacts (no pipeline run).

The ModelCardGenerator's executor runs on an Evaluator output written in
TFMA's own formats (tests/evaluator_outputs.py), a DataReport folder written
through its contract, a saved_model.pb holding only the signature defs of the
exported model, and a model run record. The card must follow the Model Card
Toolkit's schema v0.0.2 with no key the schema does not declare, carry a
metric for every output x cohort, and hold exactly the values and intervals
the Evaluator wrote; its Markdown and HTML say the same.
"""

import copy
import json
import math
import os

import pytest
import tensorflow as tf
from tensorflow.core.framework import tensor_shape_pb2
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow.core.protobuf import saved_model_pb2
from tfx.types import standard_artifacts

from components import artifacts
from components import data_report
from components.celeba import local_data
from components.contracts import evaluation as er
from components.contracts import label_balance
from components.contracts import metric_names
from components.contracts import model_card as card_contract
from components.model_card import content as card_content
from components.model_card import executor
from components.model_card import render
from components.report import content as report_content
from models import features
from models import losses
from models import run_record
from models import signatures as signatures_lib
from pipeline import configs
from tests import evaluator_outputs
from tests import report_reading

_STRING, _FLOAT = types_pb2.DT_STRING, types_pb2.DT_FLOAT


def _tensor(name, dtype, *dims):
  return meta_graph_pb2.TensorInfo(
      name=f'{name}:0', dtype=dtype, tensor_shape=tensor_shape_pb2.
      TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d)
                            for d in dims]))


def write_signatures(folder):
  """A saved_model.pb with the exported model's signature defs only."""
  heads = {label: _tensor(label, _FLOAT, -1, 1)
           for label in features.LABEL_KEYS}
  defs = {
      signatures_lib.SERVING_DEFAULT: ({'examples': _tensor('examples',
                                                            _STRING, -1)},
                                       heads),
      signatures_lib.SERVING_JPEG: ({'image_bytes': _tensor('jpeg', _STRING,
                                                            -1)}, heads),
      signatures_lib.PREDICT_PIXELS: (
          {'image_xf': _tensor('px', _FLOAT, -1, 96, 96, 3)},
          dict(heads, embedding=_tensor('emb', _FLOAT, -1, 1280))),
  }
  saved = saved_model_pb2.SavedModel()
  graph = saved.meta_graphs.add()
  for name, (inputs, outputs) in defs.items():
    signature = graph.signature_def[name]
    for k, v in inputs.items():
      signature.inputs[k].CopyFrom(v)
    for k, v in outputs.items():
      signature.outputs[k].CopyFrom(v)
  graph.signature_def['__saved_model_init_op'].outputs[
      '__saved_model_init_op'].name = 'NoOp'
  serving = os.path.join(folder, 'Format-Serving')
  os.makedirs(serving)
  with open(os.path.join(serving, 'saved_model.pb'), 'wb') as f:
    f.write(saved.SerializeToString())
  return folder


def _balance():
  return {split: label_balance.SplitBalance(
      split=split, num_examples=sum(counts.values()),
      positive_rates={'Male': 0.41, 'Young': 0.77}, cohort_counts=counts)
          for split, counts in (
              ('train', dict(zip(features.cohort_names(), (300, 250, 700,
                                                           1150)))),
              ('eval', dict(zip(features.cohort_names(), (40, 30, 80, 140)))),
              ('test', dict(zip(features.cohort_names(), (38, 32, 86,
                                                          141)))))}


def _artifact(cls, uri, artifact_id=None):
  artifact = cls()
  artifact.uri = uri
  if artifact_id is not None:
    artifact.id = artifact_id
  return artifact


def run_executor(root, data_note=local_data.GENERATED_NOTE, seed=0):
  """The executor on made-up artifacts under `root`; (card folder, eval)."""
  root = str(root)
  metrics = evaluator_outputs.metrics_of(evaluator_outputs.fake_data(seed=seed),
                                         seed=seed)
  evaluation_dir = evaluator_outputs.write_evaluation(
      os.path.join(root, 'evaluation'), {er.CANDIDATE: metrics})
  report_dir = os.path.join(root, 'data_report')
  os.makedirs(report_dir)
  with open(os.path.join(report_dir, data_report.BALANCE_JSON), 'w') as f:
    f.write(label_balance.to_json(_balance()))
  model_dir = write_signatures(os.path.join(root, 'model'))
  run_dir = os.path.join(root, 'model_run')
  run_record.write(run_dir, {'loss': 'weighted_bce', 'alpha': 0.35,
                             'image_size': 96, 'weights': 'none',
                             'epochs': 8, 'batch_size': 32},
                   {label: losses.ClassWeights(label, positive, 2406 - positive)
                    for label, positive in (('Male', 999), ('Young', 1817))},
                   'float32')
  pushed = _artifact(standard_artifacts.PushedModel,
                     os.path.join(root, 'pushed'))
  pushed.set_int_custom_property('pushed', 1)
  pushed.set_string_custom_property('pushed_destination',
                                    '/serving/1796118974')
  card_dir = os.path.join(root, 'card')
  output = _artifact(artifacts.ModelCard, card_dir)
  executor.Executor().Do(
      {'evaluation': [_artifact(standard_artifacts.ModelEvaluation,
                                evaluation_dir)],
       'model': [_artifact(standard_artifacts.Model, model_dir, 9)],
       'data_report': [_artifact(artifacts.DataReport, report_dir)],
       'model_run': [_artifact(standard_artifacts.ModelRun, run_dir)],
       'pushed_model': [pushed]},
      {'model_card': [output]}, {'data_note': data_note})
  return card_dir, er.load_evaluation(evaluation_dir), output


@pytest.fixture(scope='module')
def written(tmp_path_factory):
  card_dir, evaluation, output = run_executor(
      tmp_path_factory.mktemp('model_card'))
  return card_dir, evaluation, card_contract.read(card_dir), output


def _mended_schema():
  with open(card_contract.SCHEMA_FILE) as f:
    text = f.read()
  return json.loads(text.replace('"#definitions/graphic"',
                                 '"#/definitions/graphic"'))


def test_the_card_validates_against_schema_v002(written):
  # Imported here, not at the top: its format checkers take seconds to
  # import, which every pytest worker would pay collecting this file.
  import jsonschema  # pylint: disable=g-import-not-at-top
  _, _, card, output = written
  schema = _mended_schema()
  validator = jsonschema.Draft7Validator(
      schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
  assert list(validator.iter_errors(card)) == []
  assert card['schema_version'] == '0.0.2'
  assert set(card) <= set(card_contract.TOP_LEVEL_KEYS)
  assert card_contract.problems(card) == []
  assert card['quantitative_analysis']['graphics']['collection']
  assert output.get_string_custom_property('schema_version') == '0.0.2'
  for name in (card_contract.CARD_JSON, card_contract.CARD_MARKDOWN,
               card_contract.CARD_HTML):
    assert os.path.getsize(os.path.join(written[0], name)) > 1000


def test_the_schema_file_is_the_published_one():
  card_contract.load_schema()  # checks the sha256
  with open(card_contract.SCHEMA_FILE) as f:
    assert f.read().count('"#definitions/graphic"') == 1


def test_the_card_holds_no_key_the_schema_forbids(written):
  _, _, card, _ = written
  top = dict(card, report_url='x')
  assert any('report_url' in p for p in card_contract.problems(top))
  nested = copy.deepcopy(card)
  nested['model_details']['foo'] = 1   # the schema itself accepts this one
  assert card_contract.problems(nested) == [
      '$.model_details.foo: not in the schema']
  bad_interval = copy.deepcopy(card)
  bad_interval['quantitative_analysis']['performance_metrics'][0][
      card_contract.INTERVAL] = {'lower': 0.1, 'upper': 0.2}
  assert len(card_contract.problems(bad_interval)) == 1
  as_text = copy.deepcopy(card)
  as_text['quantitative_analysis']['performance_metrics'][0]['value'] = '0.9'
  bad_date = copy.deepcopy(card)
  bad_date['model_details']['version']['date'] = '01/12/2026'
  for broken in (top, nested, bad_interval, as_text, bad_date):
    with pytest.raises(ValueError, match='schema v0.0.2'):
      card_contract.to_json(broken)


def test_a_metric_for_every_output_and_cohort(written):
  _, evaluation, card, _ = written
  found = card_contract.performance_metrics(card)
  for output in features.LABEL_KEYS:
    for key in [er.OVERALL] + list(report_content.COHORT_SLICES):
      for metric in (metric_names.ACCURACY, metric_names.EXAMPLE_COUNT):
        assert (output, er.slice_name(key), metric, None) in found
    thresholds = evaluation.thresholds(output,
                                       metric_names.FALSE_POSITIVE_RATE_SWEEP)
    assert thresholds == configs.DEFAULT_RATE_THRESHOLDS
    for t in thresholds:
      assert (output, 'Overall', metric_names.FALSE_POSITIVE_RATE_SWEEP,
              t) in found


def test_values_and_intervals_are_the_evaluators(written):
  _, evaluation, card, _ = written
  candidate = {er.slice_name(k): v for k, v in evaluation.candidate().items()}
  checked = with_interval = 0
  for (output, slice_name, metric, threshold), entry in (
      card_contract.performance_metrics(card).items()):
    tfma_entry = candidate[slice_name][output]
    if threshold is None:
      value, interval = tfma_entry.get(metric), tfma_entry.interval(metric)
    else:
      i = evaluation.thresholds(output, metric).index(threshold)
      value = tfma_entry.array(metric)[i]
      interval = tfma_entry.array_interval(metric)[i]
    assert entry['value'] == value, (output, slice_name, metric, threshold)
    if interval is None or not interval.finite:
      assert card_contract.INTERVAL not in entry
    else:
      assert entry[card_contract.INTERVAL] == {
          card_contract.LOWER: interval.lower,
          card_contract.UPPER: interval.upper}
      with_interval += 1
    checked += 1
  assert checked > 200 and with_interval > 150
  # Every defined, meaningful value is in the card; undefined ones are not.
  for slice_key, by_output in evaluation.candidate().items():
    for output, entry in by_output.items():
      for metric in card_content.CARD_METRICS:
        present = (output, er.slice_name(slice_key), metric,
                   None) in card_contract.performance_metrics(card)
        expected = (report_content.meaningful(slice_key, output, metric)
                    and math.isfinite(entry.get(metric)))
        assert present == expected, (slice_key, output, metric)


def test_markdown_and_html_show_the_cards_numbers(written):
  card_dir, _, card, _ = written
  with open(os.path.join(card_dir, card_contract.CARD_HTML)) as f:
    page = f.read()
  cells = report_reading.parse_html(page)
  by_key = card_contract.performance_metrics(card)
  assert cells.scripts == 0
  assert 'src="http' not in page and '<link' not in page
  assert all(img['src'].startswith('data:image/png;base64,')
             for img in cells.images)
  assert len(cells.images) == len(
      card['quantitative_analysis']['graphics']['collection'])
  assert cells.headings == list(render.SECTIONS)
  parser = _CardCells()
  parser.feed(page)
  assert len(parser.cells) == len(by_key)
  for (output, slice_name, metric, threshold), attrs in parser.cells.items():
    entry = by_key[(output, slice_name, metric, threshold)]
    assert float(attrs['data-value']) == entry['value']
    if card_contract.INTERVAL in entry:
      assert float(attrs['data-lower']) == entry[card_contract.INTERVAL][
          card_contract.LOWER]
      assert float(attrs['data-upper']) == entry[card_contract.INTERVAL][
          card_contract.UPPER]
  with open(os.path.join(card_dir, card_contract.CARD_MARKDOWN)) as f:
    text = f.read()
  assert report_reading.markdown_headings(text) == list(render.SECTIONS)
  overall = by_key[('Male', 'Overall', metric_names.ACCURACY, None)]
  assert render.value_text(metric_names.ACCURACY, overall) in text
  assert '[' in render.value_text(metric_names.ACCURACY, overall)


class _CardCells(report_reading.html.parser.HTMLParser):
  """(output, slice, metric, threshold) -> data attributes of each cell."""

  def __init__(self):
    super().__init__()
    self.cells = {}

  def handle_starttag(self, tag, attrs):
    attrs = dict(attrs)
    if tag == 'td' and 'data-value' in attrs:
      threshold = attrs.get('data-threshold')
      key = (attrs['data-output'], attrs['data-slice'], attrs['data-metric'],
             float(threshold) if threshold is not None else None)
      assert key not in self.cells, key
      self.cells[key] = attrs


def test_the_card_describes_the_run(written):
  _, _, card, _ = written
  details = card['model_details']
  assert details['overview'].startswith('GENERATED DATA.')
  assert details['version']['name'] == '1796118974'   # the pushed version
  params = card['model_parameters']
  for name in (signatures_lib.SERVING_DEFAULT, signatures_lib.SERVING_JPEG):
    assert f'{name}: ' in params['input_format']
    assert f'{name}: Male float32[batch, 1]; Young float32[batch, 1]' in (
        params['output_format'])
  assert 'image_xf' not in params['input_format']   # not a public signature
  assert 'alpha 0.35' in params['model_architecture']
  assert [d['name'].split(', ')[-1] for d in params['data']] == [
      'train split', 'eval split', 'test split']
  test = params['data'][-1]['description']
  assert test.startswith('297 faces') and 'Non-Young x Female 32' in test
  considerations = card['considerations']
  uses = ' '.join(u['description'] for u in considerations['use_cases'])
  for out_of_scope in ('identifying', 'surveillance', 'decisions about people'):
    assert out_of_scope in uses
  limitations = ' '.join(x['description']
                         for x in considerations['limitations'])
  assert 'generated sample' in limitations and 'celebrities' in limitations
  assert 'annotators' in limitations
  assert len(considerations['tradeoffs']) == len(features.LABEL_KEYS)
  floors = configs.SAMPLE.thresholds.cohort_accuracy_floor
  risks = considerations['ethical_considerations']
  for output, risk in zip(features.LABEL_KEYS, risks):
    assert f'accuracy >= {floors[output]:g} on each of the four' in (
        risk['mitigation_strategy'])


def test_a_card_of_real_data_does_not_say_generated(tmp_path):
  card_dir, _, _ = run_executor(tmp_path, data_note='')
  card = card_contract.read(card_dir)
  assert 'GENERATED' not in card['model_details']['overview']
  assert card['model_parameters']['data'][0]['link'].startswith('https://')
  limitations = ' '.join(x['description']
                         for x in card['considerations']['limitations'])
  assert 'generated' not in limitations
  assert card_contract.problems(card) == []


def test_signatures_are_read_from_the_saved_model_proto(tmp_path):
  model_dir = write_signatures(str(tmp_path / 'model'))
  found = executor.signatures_of(os.path.join(model_dir, 'Format-Serving'))
  assert set(found) == {signatures_lib.SERVING_DEFAULT,
                        signatures_lib.SERVING_JPEG,
                        signatures_lib.PREDICT_PIXELS}
  (pixels,) = found[signatures_lib.PREDICT_PIXELS].inputs
  assert pixels.text == 'image_xf float32[batch, 96, 96, 3]'
  assert tf.io.gfile.exists(os.path.join(model_dir, 'Format-Serving'))


def test_the_run_date_comes_from_the_run_id():
  assert executor.run_date('2026-12-01T09:48:59.708515') == '2026-12-01'
  assert len(executor.run_date('my-run')) == 10
