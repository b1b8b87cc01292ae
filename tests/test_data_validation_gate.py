"""Tests for components.data_validation_gate's reading of anomalies."""

from tensorflow_metadata.proto.v0 import anomalies_pb2

from components import data_validation_gate


def test_describe_names_split_feature_and_reason():
  anomalies = anomalies_pb2.Anomalies()
  info = anomalies.anomaly_info['Male']
  reason = info.reason.add()
  reason.description = 'Unexpectedly large value: 2.'
  clean = anomalies_pb2.Anomalies()
  lines = data_validation_gate.describe({'train': anomalies, 'eval': clean})
  assert lines == ["train: feature 'Male': Unexpectedly large value: 2."]


def test_dataset_level_anomalies_are_reported():
  anomalies = anomalies_pb2.Anomalies()
  anomalies.dataset_anomaly_info.reason.add(
      short_description='Low num examples')
  assert data_validation_gate.describe({'test': anomalies}) == [
      'test: dataset: Low num examples']
