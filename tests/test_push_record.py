"""The Pusher's record reads the same in every form a run hands it over."""

from ml_metadata.proto import metadata_store_pb2
from tfx.types import standard_artifacts

from components.contracts import push_record


def test_local_ints_and_strings():
  artifact = standard_artifacts.PushedModel()
  artifact.set_int_custom_property(push_record.PUSHED, 1)
  artifact.set_string_custom_property(push_record.PUSHED_DESTINATION, '/s/1')
  assert push_record.read(artifact) == push_record.PushRecord(True, '/s/1')


def test_kfp_executor_input_json_values():
  # In a KFP step's ExecutorInput every custom property is a JSON value.
  artifact = standard_artifacts.PushedModel()
  artifact.set_json_value_custom_property(push_record.PUSHED, 1.0)
  artifact.set_json_value_custom_property(push_record.PUSHED_DESTINATION,
                                          'gs://b/serving/2')
  assert push_record.read(artifact) == push_record.PushRecord(
      True, 'gs://b/serving/2')
  artifact.set_json_value_custom_property(push_record.PUSHED, 0.0)
  assert push_record.read(artifact) == push_record.PushRecord(False, '')


def test_kfp_metadata_store_doubles():
  proto = metadata_store_pb2.Artifact()
  proto.custom_properties[push_record.PUSHED].double_value = 1.0
  proto.custom_properties[push_record.PUSHED_DESTINATION].string_value = '/s/3'
  assert push_record.read(proto) == push_record.PushRecord(True, '/s/3')
  assert push_record.read(metadata_store_pb2.Artifact()) == (
      push_record.PushRecord(False, ''))
