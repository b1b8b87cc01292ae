"""Tests for components.label_balance on hand-built statistics protos."""

import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2

from components.contracts import label_balance
from models import features


def _dataset(name, num_examples, means=None):
  dataset = statistics_pb2.DatasetFeatureStatistics(
      name=name, num_examples=num_examples)
  for feature, mean in (means or {}).items():
    stats = dataset.features.add()
    stats.path.step.append(feature)
    stats.num_stats.mean = mean
  return dataset


def _stats(cohort_counts, means):
  stats = statistics_pb2.DatasetFeatureStatisticsList()
  stats.datasets.append(_dataset(label_balance.ALL_EXAMPLES,
                                 sum(cohort_counts.values()), means))
  for (male, young), count in cohort_counts.items():
    stats.datasets.append(_dataset(
        label_balance.cohort_slice_name(male, young), count))
  return stats


COUNTS = {(1, 0): 14, (0, 0): 9, (1, 1): 28, (0, 1): 49}


def test_balance_reads_rates_and_cohorts():
  balance = label_balance.balance_from_statistics(
      'test', _stats(COUNTS, {'Male': 0.42, 'Young': 0.77}))
  assert balance.num_examples == 100
  assert balance.positive_rates == {'Male': 0.42, 'Young': 0.77}
  assert balance.cohort_counts['Non-Young x Male'] == 14
  assert balance.cohort_shares['Young x Female'] == pytest.approx(0.49)


def test_missing_cohort_slices_are_explained():
  stats = _stats({}, {'Male': 0.5, 'Young': 0.5})
  stats.datasets[0].num_examples = 10
  with pytest.raises(ValueError, match='must slice by Male x Young'):
    label_balance.balance_from_statistics('train', stats)


def test_table_and_json_round_trip():
  balances = {'train': label_balance.balance_from_statistics(
      'train', _stats(COUNTS, {'Male': 0.42, 'Young': 0.77}))}
  table = label_balance.format_table(balances)
  assert '| train | 100 | 42.0% | 77.0% | 14 (14.0%) |' in table
  assert label_balance.from_json(label_balance.to_json(balances)) == balances


def test_imbalance_warnings_name_label_and_smallest_cohort():
  balances = {'train': label_balance.balance_from_statistics(
      'train', _stats(COUNTS, {'Male': 0.42, 'Young': 0.77}))}
  warnings = label_balance.imbalance_warnings(balances, 0.65)
  assert 'train: Young is imbalanced (77.0% positive)' in warnings
  assert not any('Male is imbalanced' in w for w in warnings)
  assert any('smallest cohort is Non-Young x Female' in w for w in warnings)
  assert set(features.cohort_names()) == set(balances['train'].cohort_counts)


def test_an_empty_split_is_named_not_a_missing_feature():
  """TFDV's statistics of an empty split have no features at all."""
  stats = statistics_pb2.DatasetFeatureStatisticsList()
  stats.datasets.append(_dataset(label_balance.ALL_EXAMPLES, 0))
  with pytest.raises(label_balance.EmptySplitError,
                     match="split 'test' has no examples"):
    label_balance.balance_from_statistics('test', stats)
