"""Tests for components.baseline_resolver."""

import pytest
from tfx.types import standard_artifacts

from components import baseline_resolver


def _model(artifact_id):
  model = standard_artifacts.Model()
  model.id = artifact_id
  return model


def _blessing(model_id, blessed):
  blessing = standard_artifacts.ModelBlessing()
  blessing.set_int_custom_property('current_model_id', model_id)
  blessing.set_int_custom_property('blessed', int(blessed))
  return blessing


def test_the_candidate_is_never_its_own_baseline():
  models = [_model(1), _model(2), _model(3)]
  blessings = [_blessing(1, True), _blessing(2, False), _blessing(3, True)]
  result = baseline_resolver.previous_blessed_model([models[2]], models,
                                                    blessings)
  assert [m.id for m in result['model']] == [1]
  assert result['model_blessing'][0].get_int_custom_property(
      'current_model_id') == 1


def test_a_new_candidate_is_compared_with_the_latest_blessed_model():
  models = [_model(1), _model(3), _model(4)]
  blessings = [_blessing(1, True), _blessing(3, True)]
  result = baseline_resolver.previous_blessed_model([models[2]], models,
                                                    blessings)
  assert [m.id for m in result['model']] == [3]


def test_no_blessed_model_gives_no_baseline():
  models = [_model(1), _model(2)]
  result = baseline_resolver.previous_blessed_model(
      [models[1]], models, [_blessing(1, False), _blessing(2, True)])
  assert result['model'] == [] and result['model_blessing'] == []


def test_strategy_requires_the_candidate_channel():
  strategy = baseline_resolver.PreviousBlessedModelStrategy()
  with pytest.raises(ValueError, match='candidate'):
    strategy.resolve_artifacts(None, {'model': [], 'model_blessing': []})
