"""DataReport: the label imbalance and TFDV's statistics, readable anywhere.

Runs right after StatisticsGen, beside ExampleValidator, so the report exists
even for a run that stops on anomalies. Its artifact folder holds:

* `label_balance.json` / `label_balance.md`: per split, the positive rates of
  Male and Young and the size and share of each Male x Young cohort;
* `statistics.html`: TFDV's Facets view of every split (train as the
  reference), the same view a notebook shows, as a standalone page.
"""

import os

from absl import logging
import tensorflow as tf
import tensorflow_data_validation as tfdv
from tfx.components.statistics_gen import stats_artifact_utils
from tfx.dsl.component.experimental.annotations import InputArtifact
from tfx.dsl.component.experimental.annotations import OutputArtifact
from tfx.dsl.component.experimental.annotations import Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils
from tfx.types import standard_artifacts

from components import artifacts
from components.contracts import label_balance

BALANCE_JSON = 'label_balance.json'
BALANCE_MARKDOWN = 'label_balance.md'
STATISTICS_HTML = 'statistics.html'


def statistics_html(statistics: standard_artifacts.ExampleStatistics,
                    reference_split: str = 'train') -> str:
  """TFDV's statistics view of every split, compared with the reference.

  Only the unsliced dataset of each split is shown: the cohort slices are
  summarized in the balance table instead.
  """
  splits = artifact_utils.decode_split_names(statistics.split_names)
  views = {s: stats_artifact_utils.load_statistics(statistics, s)
           for s in splits}
  parts = []
  reference = reference_split if reference_split in views else splits[0]
  ref = views[reference].get_default_slice_or_die().proto()
  for split in splits:
    lhs = views[split].get_default_slice_or_die().proto()
    page = tfdv.utils.display_util.get_statistics_html(
        lhs_statistics=_as_list(lhs), lhs_name=split,
        rhs_statistics=None if split == reference else _as_list(ref),
        rhs_name=reference)
    parts.append(f'<h2>{split}</h2>\n{page}')
  return ('<!DOCTYPE html><html><head><meta charset="utf-8">'
          '<title>Statistics</title></head><body>'
          + '\n'.join(parts) + '</body></html>')


def _as_list(dataset):
  from tensorflow_metadata.proto.v0 import statistics_pb2  # pylint: disable=g-import-not-at-top
  result = statistics_pb2.DatasetFeatureStatisticsList()
  result.datasets.add().CopyFrom(dataset)
  return result


@component
def DataReport(  # pylint: disable=invalid-name
    statistics: InputArtifact[standard_artifacts.ExampleStatistics],
    report: OutputArtifact[artifacts.DataReport],
    imbalance_warning_rate: Parameter[float] = 0.65):
  """Writes the label balance and the statistics view of every split."""
  balances = label_balance.read_balance(statistics)
  warnings = label_balance.imbalance_warnings(balances, imbalance_warning_rate)
  markdown = ('# Label balance\n\n' + label_balance.format_table(balances) +
              '\n\n' + '\n'.join(f'- {w}' for w in warnings) + '\n')
  tf.io.gfile.makedirs(report.uri)
  for name, text in ((BALANCE_JSON, label_balance.to_json(balances)),
                     (BALANCE_MARKDOWN, markdown),
                     (STATISTICS_HTML, statistics_html(statistics))):
    with tf.io.gfile.GFile(os.path.join(report.uri, name), 'w') as f:
      f.write(text)
  logging.info('Label balance:\n%s', markdown)
