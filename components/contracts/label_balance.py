"""Label balance per split, read from StatisticsGen's output.

StatisticsGen is configured (pipeline.pipeline.statistics_options) to slice by
Male x Young, so its output holds, per split, the statistics of all examples
(whose `Male` and `Young` means are the positive rates) and of each of the
four cohorts (whose example counts are the cohort sizes). Nothing here counts
examples itself: the numbers are the statistics TFDV already computed.
"""

import dataclasses
import json
from typing import Dict, List, Mapping, Optional

from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx import types
from tfx.components.statistics_gen import stats_artifact_utils
from tfx.types import artifact_utils

from models import features

# TFDV's name for the unsliced dataset.
ALL_EXAMPLES = 'All Examples'


def cohort_slice_name(male: int, young: int) -> str:
  """TFDV's slice name for a SlicingSpec(feature_keys=[Male, Young])."""
  return f'{features.MALE_KEY}_{male}_{features.YOUNG_KEY}_{young}'


@dataclasses.dataclass(frozen=True)
class SplitBalance:
  """Label balance of one split."""
  split: str
  num_examples: int
  positive_rates: Dict[str, float]
  cohort_counts: Dict[str, int]  # keyed by features.cohort_name

  @property
  def cohort_shares(self) -> Dict[str, float]:
    return {name: count / self.num_examples if self.num_examples else 0.0
            for name, count in self.cohort_counts.items()}

  def as_dict(self) -> Dict[str, object]:
    return {**dataclasses.asdict(self), 'cohort_shares': self.cohort_shares}


class EmptySplitError(ValueError):
  """A split the pipeline needs holds no examples."""


def _feature_mean(dataset: statistics_pb2.DatasetFeatureStatistics,
                  name: str) -> float:
  for feature in dataset.features:
    if feature.path.step == [name] or feature.name == name:
      return feature.num_stats.mean
  raise ValueError(f'statistics of {dataset.name!r} have no feature {name!r}')


def balance_from_statistics(split: str,
                            stats: statistics_pb2.DatasetFeatureStatisticsList
                            ) -> SplitBalance:
  """Label balance of one split from its (sliced) statistics."""
  by_name = {d.name: d for d in stats.datasets}
  if ALL_EXAMPLES not in by_name:
    if len(stats.datasets) != 1:
      raise ValueError(f'split {split!r}: no {ALL_EXAMPLES!r} dataset among '
                       f'{sorted(by_name)}')
    by_name[ALL_EXAMPLES] = stats.datasets[0]
  everything = by_name[ALL_EXAMPLES]
  if not everything.num_examples:
    raise EmptySplitError(
        f'split {split!r} has no examples: the pipeline trains on train, '
        'stops early on eval and judges on test, so each needs examples '
        '(CelebA partitions 0, 1 and 2)')
  rates = {label: _feature_mean(everything, label)
           for label in features.LABEL_KEYS}
  counts = {}
  for male, young in features.COHORTS:
    name = cohort_slice_name(male, young)
    if name not in by_name:
      raise ValueError(
          f'split {split!r}: the statistics have no slice {name!r}; '
          'StatisticsGen must slice by Male x Young '
          '(pipeline.pipeline.statistics_options)')
    counts[features.cohort_name(male, young)] = int(by_name[name].num_examples)
  return SplitBalance(split=split, num_examples=int(everything.num_examples),
                      positive_rates=rates, cohort_counts=counts)


def read_balance(statistics: types.Artifact) -> Dict[str, SplitBalance]:
  """Label balance of every split of an ExampleStatistics artifact."""
  return {
      split:
          balance_from_statistics(
              split,
              stats_artifact_utils.load_statistics(statistics, split).proto())
      for split in artifact_utils.decode_split_names(statistics.split_names)
  }


def imbalance_warnings(balances: Mapping[str, SplitBalance],
                       warning_rate: float) -> List[str]:
  """Plain-language warnings for labels far from 50/50, per split."""
  warnings = []
  for split, balance in balances.items():
    for label, rate in balance.positive_rates.items():
      if rate > warning_rate or rate < 1 - warning_rate:
        warnings.append(
            f'{split}: {label} is imbalanced ({rate:.1%} positive)')
    smallest = min(balance.cohort_counts, key=balance.cohort_counts.get)
    warnings.append(
        f'{split}: smallest cohort is {smallest} '
        f'({balance.cohort_shares[smallest]:.1%} of examples)')
  return warnings


def format_table(balances: Mapping[str, SplitBalance],
                 splits: Optional[List[str]] = None) -> str:
  """A Markdown table (also readable in a terminal) of the balance."""
  splits = splits or [s for s in features.SPLITS if s in balances] + sorted(
      s for s in balances if s not in features.SPLITS)
  cohorts = features.cohort_names()
  header = (['split', 'examples'] +
            [f'{label} positive' for label in features.LABEL_KEYS] + cohorts)
  rows = [header, ['---'] * len(header)]
  for split in splits:
    b = balances[split]
    rows.append([split, str(b.num_examples)] +
                [f'{b.positive_rates[label]:.1%}'
                 for label in features.LABEL_KEYS] +
                [f'{b.cohort_counts[c]} ({b.cohort_shares[c]:.1%})'
                 for c in cohorts])
  return '\n'.join('| ' + ' | '.join(row) + ' |' for row in rows)


def to_json(balances: Mapping[str, SplitBalance]) -> str:
  return json.dumps({s: b.as_dict() for s, b in balances.items()}, indent=2)


def from_json(text: str) -> Dict[str, SplitBalance]:
  data = json.loads(text)
  return {
      split: SplitBalance(split=d['split'], num_examples=d['num_examples'],
                          positive_rates=d['positive_rates'],
                          cohort_counts=d['cohort_counts'])
      for split, d in data.items()
  }
