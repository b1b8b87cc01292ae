"""Tests for models.features."""

from models import features


def test_attribute_names_match_celeba():
  assert len(features.ATTRIBUTE_NAMES) == 40
  assert len(set(features.ATTRIBUTE_NAMES)) == 40
  assert features.ATTRIBUTE_NAMES[0] == '5_o_Clock_Shadow'
  assert features.ATTRIBUTE_NAMES[20] == 'Male'
  assert features.ATTRIBUTE_NAMES[-1] == 'Young'


def test_labels_are_attributes():
  assert set(features.LABEL_KEYS) <= set(features.ATTRIBUTE_NAMES)


def test_cohort_names():
  assert features.cohort_name(1, 0) == 'Non-Young x Male'
  assert features.cohort_name(0, 1) == 'Young x Female'
  assert len(set(features.cohort_names())) == 4
  assert sorted(features.COHORTS) == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_partitions_map_to_splits():
  assert [features.PARTITION_TO_SPLIT[p] for p in (0, 1, 2)] == list(
      features.SPLITS)
