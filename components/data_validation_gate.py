"""Stops a run whose data has anomalies before anything is trained on it.

ExampleValidator records anomalies but never fails, so on its own a pipeline
would go on to train on broken data. This component reads its output and fails
with the anomalies spelled out; Transform and everything after it depend on
it, locally and on Kubeflow alike.
"""

import os
from typing import Dict, List

from tensorflow_data_validation.utils import anomalies_util
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx import types
from tfx.dsl.component.experimental.annotations import InputArtifact
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils
from tfx.types import standard_artifacts

# ExampleValidator writes one file of this name per split.
ANOMALIES_FILE = 'SchemaDiff.pb'


class DataAnomaliesError(RuntimeError):
  """The data does not match the curated schema."""


def load_anomalies(
    anomalies: types.Artifact) -> Dict[str, anomalies_pb2.Anomalies]:
  """Anomalies per split of an ExampleAnomalies artifact."""
  result = {}
  for split in artifact_utils.decode_split_names(anomalies.split_names):
    path = os.path.join(artifact_utils.get_split_uri([anomalies], split),
                        ANOMALIES_FILE)
    result[split] = anomalies_util.load_anomalies_binary(path)
  return result


def describe(
    anomalies_by_split: Dict[str, anomalies_pb2.Anomalies]) -> List[str]:
  """One readable line per anomaly: split, feature, what is wrong."""
  lines = []
  for split, anomalies in sorted(anomalies_by_split.items()):
    for feature, info in sorted(anomalies.anomaly_info.items()):
      reasons = '; '.join(r.description or r.short_description
                          for r in info.reason) or info.description
      lines.append(f'{split}: feature {feature!r}: {reasons}')
    if anomalies.HasField('dataset_anomaly_info'):
      info = anomalies.dataset_anomaly_info
      reasons = '; '.join(r.description or r.short_description
                          for r in info.reason) or info.description
      lines.append(f'{split}: dataset: {reasons}')
  return lines


@component
def DataValidationGate(  # pylint: disable=invalid-name
    anomalies: InputArtifact[standard_artifacts.ExampleAnomalies]):
  """Fails when ExampleValidator found any anomaly in any split."""
  problems = describe(load_anomalies(anomalies))
  if problems:
    raise DataAnomaliesError(
        'the data does not match the curated schema; nothing was trained. '
        'Anomalies:\n  ' + '\n  '.join(problems))
