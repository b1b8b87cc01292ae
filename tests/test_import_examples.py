"""ImportExampleGen's shard-copying executor (components/import_examples.py)."""

import os

import pytest
import tensorflow as tf
from tfx.proto import example_gen_pb2
from tfx.types import standard_artifacts
from tfx.utils import proto_utils

from components import import_examples
from components.celeba import convert
from models import features
from tests import beam_pipelines
from tests import example_data


def _records(path):
  return [r.numpy() for r in tf.data.TFRecordDataset(
      path, compression_type='GZIP' if path.endswith('.gz') else '')]


def _run(input_base, tmp_path, pattern='*.tfrecord.gz'):
  examples = standard_artifacts.Examples()
  examples.uri = str(tmp_path / 'out')
  config = example_gen_pb2.Input(splits=[
      example_gen_pb2.Input.Split(name=name, pattern=f'{name}/{pattern}')
      for name in features.SPLITS])
  import_examples.Executor(beam_pipelines.executor_context()).Do({}, {'examples': [examples]}, {
      'input_base': str(input_base),
      'input_config': proto_utils.proto_to_json(config),
      'output_config': proto_utils.proto_to_json(example_gen_pb2.Output()),
      'output_data_format': example_gen_pb2.FORMAT_TF_EXAMPLE,
      'output_file_format': example_gen_pb2.FORMAT_TFRECORDS_GZIP})
  return examples


@pytest.fixture
def data(tmp_path):
  """train in two shards, eval and test in one, as the converter writes."""
  root = tmp_path / 'data'
  rows = example_data.raw_examples(9, seed=4)
  shards = {'train': [rows[:3], rows[3:5]], 'eval': [rows[5:7]],
            'test': [rows[7:]]}
  for split, parts in shards.items():
    for k, part in enumerate(parts):
      example_data.write_gzip_tfrecord(
          str(root / split / f'data-{k:05d}-of-{len(parts):05d}.tfrecord.gz'),
          part)
  return root


def test_each_input_shard_becomes_one_output_shard_with_its_records(
    data, tmp_path):
  examples = _run(data, tmp_path)
  assert examples.split_names == '["train", "eval", "test"]'
  assert examples.get_string_custom_property('payload_format') == (
      'FORMAT_TF_EXAMPLE')
  for split in features.SPLITS:
    sources = sorted(os.listdir(data / split))
    out = tmp_path / 'out' / f'Split-{split}'
    outputs = sorted(os.listdir(out))
    assert len(outputs) == len(sources)
    for source, output in zip(sources, outputs):
      assert _records(str(out / output)) == _records(
          str(data / split / source))


def test_gzip_shards_are_copied_byte_for_byte(data, tmp_path):
  _run(data, tmp_path)
  for split in features.SPLITS:
    sources = sorted(os.listdir(data / split))
    outputs = sorted(os.listdir(tmp_path / 'out' / f'Split-{split}'))
    for source, output in zip(sources, outputs):
      assert (tmp_path / 'out' / f'Split-{split}' / output).read_bytes() == (
          data / split / source).read_bytes()


def test_the_converters_output_is_linked_any_other_copied(data, tmp_path):
  source = data / 'eval' / 'data-00000-of-00001.tfrecord.gz'
  output = tmp_path / 'out' / 'Split-eval' / 'data_tfrecord-00000-of-00001.gz'
  _run(data, tmp_path)
  assert os.stat(output).st_ino != os.stat(source).st_ino
  (data / convert.MARKER_FILE).write_text('{}')
  _run(data, tmp_path)
  assert os.stat(output).st_ino == os.stat(source).st_ino
  # The link outlives the input: a new conversion moves new files in.
  os.remove(source)
  assert _records(str(output))


def test_uncompressed_shards_are_written_as_gzip(data, tmp_path):
  for split in features.SPLITS:
    for name in os.listdir(data / split):
      gz = str(data / split / name)
      with tf.io.TFRecordWriter(gz[:-len('.gz')]) as writer:
        for record in _records(gz):
          writer.write(record)
      os.remove(gz)
  _run(data, tmp_path, pattern='*.tfrecord')
  for split in features.SPLITS:
    sources = sorted(os.listdir(data / split))
    out = tmp_path / 'out' / f'Split-{split}'
    outputs = sorted(os.listdir(out))
    assert [o.endswith('.gz') for o in outputs] == [True] * len(sources)
    for source, output in zip(sources, outputs):
      assert _records(str(out / output)) == _records(
          str(data / split / source))


def test_a_truncated_shard_is_named_with_its_record(data, tmp_path):
  shard = data / 'train' / 'data-00000-of-00002.tfrecord.gz'
  raw = shard.read_bytes()
  shard.write_bytes(raw[:len(raw) // 2])  # a copy interrupted mid-file
  with pytest.raises(Exception) as error:
    _run(data, tmp_path)
  assert f'{shard}: record ' in str(error.value)
  assert 'cannot be read: truncated or corrupt TFRecord' in str(error.value)
  # Checked before it is copied: no part of the bad shard is written.
  assert not (tmp_path / 'out' / 'Split-train' /
              'data_tfrecord-00000-of-00002.gz').exists()


def test_a_record_that_is_no_example_is_named(data, tmp_path):
  shard = data / 'eval' / 'data-00000-of-00001.tfrecord.gz'
  with tf.io.TFRecordWriter(str(shard), 'GZIP') as writer:
    writer.write(b'\x0a\x05not a proto')
  with pytest.raises(Exception) as error:
    _run(data, tmp_path)
  assert f'{shard}: record 1 is not a tf.train.Example' in str(error.value)


def test_an_empty_pattern_is_named(data, tmp_path):
  for name in os.listdir(data / 'test'):
    os.remove(data / 'test' / name)
  with pytest.raises(FileNotFoundError, match="split 'test': no files match"):
    _run(data, tmp_path)
