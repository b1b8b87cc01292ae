"""Tests for components.baseline: which served model is the baseline.

The SavedModels here are folders with the files a SavedModel has (the
lookup never loads a model), so these tests need no TensorFlow graph.
"""

import json
import os

import pytest
from tfx import types
from tfx.orchestration.portable import data_types
from tfx.types import standard_artifacts

from components.baseline import component
from components.baseline import evaluator
from components.baseline import served
from components.contracts import baseline_record as record


def _saved_model(path, content: bytes) -> str:
  os.makedirs(os.path.join(path, 'variables'), exist_ok=True)
  with open(os.path.join(path, 'saved_model.pb'), 'wb') as f:
    f.write(content)
  with open(os.path.join(path, 'variables', 'variables.index'), 'wb') as f:
    f.write(content[::-1])
  return str(path)


def _candidate(tmp_path, content: bytes) -> standard_artifacts.Model:
  model = standard_artifacts.Model()
  model.uri = str(tmp_path / 'candidate')
  _saved_model(os.path.join(model.uri, 'Format-Serving'), content)
  return model


# ------------------------------------------------------------------ lookup


def test_versions_are_numeric_folders_with_a_saved_model_newest_first(
    tmp_path):
  for version in ('100', '9', '1000'):
    _saved_model(tmp_path / version, version.encode())
  (tmp_path / '2000').mkdir()  # a push in progress: no SavedModel yet
  _saved_model(tmp_path / 'backup', b'x')
  assert served.served_versions(str(tmp_path)) == [
      str(tmp_path / v) for v in ('1000', '100', '9')]
  assert served.served_versions(str(tmp_path / 'missing')) == []
  # A folder that is itself a SavedModel is the one served model.
  assert served.served_versions(str(tmp_path / '9')) == [str(tmp_path / '9')]


def test_digest_covers_names_and_bytes(tmp_path):
  a = _saved_model(tmp_path / 'a', b'model')
  b = _saved_model(tmp_path / 'b', b'model')
  assert served.content_digest(a) == served.content_digest(b)
  with open(os.path.join(b, 'variables', 'extra'), 'wb') as f:
    f.write(b'')
  assert served.content_digest(a) != served.content_digest(b)


def test_the_newest_served_model_is_the_baseline(tmp_path):
  serving = tmp_path / 'serving'
  _saved_model(serving / '100', b'old')
  _saved_model(serving / '200', b'new')
  candidate = _saved_model(tmp_path / 'candidate', b'candidate')
  selection = served.select(str(serving), candidate)
  assert selection.served.uri == str(serving / '200')
  assert selection.served.version == '200'
  assert selection.served.digest == served.content_digest(
      str(serving / '200'))


def test_a_served_copy_of_the_candidate_is_skipped(tmp_path):
  serving = tmp_path / 'serving'
  _saved_model(serving / '100', b'previous')
  _saved_model(serving / '200', b'candidate')  # pushed by an earlier run
  candidate = _saved_model(tmp_path / 'candidate', b'candidate')
  assert served.select(str(serving), candidate).served.version == '100'
  os.rename(serving / '100', tmp_path / 'gone')
  assert served.select(str(serving), candidate).served is None


def test_nothing_served_gives_no_baseline(tmp_path):
  candidate = _saved_model(tmp_path / 'candidate', b'candidate')
  selection = served.select(str(tmp_path / 'serving'), candidate)
  assert selection.served is None
  assert selection.source == str(tmp_path / 'serving')


def test_selection_json_is_stable_and_round_trips(tmp_path):
  serving = tmp_path / 'serving'
  _saved_model(serving / '7', b'served')
  candidate = _saved_model(tmp_path / 'candidate', b'candidate')
  first = served.select(str(serving), candidate)
  again = served.select(str(serving), candidate)
  assert first.to_json() == again.to_json()
  assert served.Selection.from_json(first.to_json()) == first
  none = served.Selection(source='/s', served=None)
  assert served.Selection.from_json(none.to_json()) == none


def test_a_copy_that_changed_is_refused(tmp_path):
  version = served.ServedVersion(
      uri=_saved_model(tmp_path / '1', b'served'), version='1',
      digest='0' * 64)
  with pytest.raises(RuntimeError, match='changed after it was chosen'):
    served.copy_served(version, str(tmp_path / 'copy'))


# ------------------------------------------------ executor, driver, Evaluator


def _run_executor(tmp_path, candidate, exec_properties):
  baseline = standard_artifacts.Model()
  baseline.uri = str(tmp_path / 'baseline')
  component.Executor().Do({component.MODEL_KEY: [candidate]},
                          {component.BASELINE_KEY: [baseline]},
                          exec_properties)
  return baseline


def test_executor_copies_the_served_model_into_the_output(tmp_path):
  serving = tmp_path / 'serving'
  _saved_model(serving / '5', b'served')
  candidate = _candidate(tmp_path, b'candidate')
  baseline = _run_executor(tmp_path, candidate,
                           {component.SOURCE_KEY: str(serving)})
  copy = os.path.join(baseline.uri, 'Format-Serving')
  assert served.content_digest(copy) == served.content_digest(
      str(serving / '5'))
  assert baseline.get_int_custom_property(component.SERVED_PROPERTY) == 1
  assert baseline.get_string_custom_property(
      component.URI_PROPERTY) == str(serving / '5')
  assert baseline.get_string_custom_property(
      component.VERSION_PROPERTY) == '5'


def test_executor_marks_an_empty_output_when_nothing_is_served(tmp_path):
  candidate = _candidate(tmp_path, b'candidate')
  baseline = _run_executor(tmp_path, candidate,
                           {component.SOURCE_KEY: str(tmp_path / 'none')})
  assert baseline.get_int_custom_property(component.SERVED_PROPERTY) == 0
  assert not os.path.exists(os.path.join(baseline.uri, 'Format-Serving'))


def test_driver_choice_is_what_the_executor_copies(tmp_path):
  """Locally the driver's choice is the cache key; the executor follows it
  even if a newer model was pushed in between."""
  serving = tmp_path / 'serving'
  _saved_model(serving / '5', b'served')
  candidate = _candidate(tmp_path, b'candidate')
  driver = component.Driver(None)
  output = driver.run(data_types.ExecutionInfo(
      input_dict={component.MODEL_KEY: [candidate]},
      exec_properties={component.SOURCE_KEY: str(serving)}))
  chosen = output.exec_properties[component.SELECTION_KEY].string_value
  assert json.loads(chosen)['version'] == '5'
  _saved_model(serving / '6', b'newer')
  baseline = _run_executor(tmp_path, candidate,
                           {component.SOURCE_KEY: str(serving),
                            component.SELECTION_KEY: chosen})
  assert baseline.get_string_custom_property(
      component.VERSION_PROPERTY) == '5'


def test_component_wires_the_driver_and_the_parameters():
  node = component.ServedBaseline(
      model=types.Channel(type=standard_artifacts.Model), source_dir='/s')
  assert node.driver_class is component.Driver
  assert node.exec_properties[component.SOURCE_KEY] == '/s'
  assert node.outputs[component.BASELINE_KEY].type is standard_artifacts.Model
  assert issubclass(evaluator.Evaluator.EXECUTOR_SPEC.executor_class,
                    evaluator.Executor)


def _baseline_artifact(tmp_path, served_flag, with_model=True,
                       as_kfp_double=False):
  baseline = standard_artifacts.Model()
  baseline.uri = str(tmp_path / 'baseline')
  if with_model:
    _saved_model(os.path.join(baseline.uri, 'Format-Serving'), b'served')
  if served_flag is not None:
    if as_kfp_double:
      # What KFP's metadata store hands the next task: a JSON number.
      baseline.set_json_value_custom_property(component.SERVED_PROPERTY,
                                              float(served_flag))
    else:
      baseline.set_int_custom_property(component.SERVED_PROPERTY,
                                       served_flag)
    baseline.set_string_custom_property(component.SOURCE_PROPERTY, '/serve')
    baseline.set_string_custom_property(component.URI_PROPERTY, '/serve/5')
  return baseline


def test_evaluator_leaves_out_a_baseline_that_is_not_served(tmp_path):
  use, note = evaluator.judge_baseline(
      [_baseline_artifact(tmp_path, 0, with_model=False)])
  assert not use
  assert note.note == 'no model other than this candidate is served in /serve'
  assert evaluator.judge_baseline([])[0] is False


def test_evaluator_uses_a_served_baseline_whatever_the_number_type(tmp_path):
  for as_double in (False, True):
    use, note = evaluator.judge_baseline(
        [_baseline_artifact(tmp_path, 1, as_kfp_double=as_double)])
    assert use
    assert note.served_uri == '/serve/5'
    assert note.note == 'the model served from /serve/5'


def test_evaluator_refuses_a_served_baseline_without_a_model(tmp_path):
  with pytest.raises(ValueError, match='holds no SavedModel'):
    evaluator.judge_baseline(
        [_baseline_artifact(tmp_path, 1, with_model=False)])


def test_an_unmarked_baseline_counts_if_it_holds_a_model(tmp_path):
  assert evaluator.judge_baseline([_baseline_artifact(tmp_path, None)])[0]
  other = tmp_path / 'other'
  assert not evaluator.judge_baseline(
      [_baseline_artifact(other, None, with_model=False)])[0]


def test_record_round_trips(tmp_path):
  written = record.BaselineRecord(used=True, source='/s', served_uri='/s/1',
                                  version='1', note='the model served from x')
  record.write(written, str(tmp_path))
  assert record.read(str(tmp_path)) == written
  assert record.read(str(tmp_path / 'none')) is None


def test_without_a_candidate_the_newest_served_model_is_chosen(tmp_path):
  """The model a warm start begins from: there is no candidate yet."""
  serving = tmp_path / 'serving'
  _saved_model(serving / '100', b'old')
  _saved_model(serving / '200', b'new')
  baseline = standard_artifacts.Model()
  baseline.uri = str(tmp_path / 'start')
  component.Executor().Do({}, {component.BASELINE_KEY: [baseline]},
                          {component.SOURCE_KEY: str(serving)})
  assert baseline.get_string_custom_property(component.VERSION_PROPERTY) == (
      '200')
  assert served.content_digest(os.path.join(
      baseline.uri, 'Format-Serving')) == served.content_digest(
          str(serving / '200'))
