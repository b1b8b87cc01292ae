"""ImportExampleGen's executor for already sharded, already shuffled TFRecords.

TFX's own ImportExampleGen executor reads every record of a split, sends them
through `beam.Reshuffle()` and writes what comes out. On Beam's in-process
DirectRunner a reshuffle holds its whole input in memory (about 5 GiB for
CelebA's 202,599 JPEGs), and the write that follows is one file per split,
which no later reader can split. The pipeline's input does not need either:
`python -m components.celeba convert` already writes each split as GZIP
shards of about 128 MB in a seeded random order.

So this executor keeps the input's sharding: one Beam element per input file
(a list of names, not records, is what gets shuffled across workers), each
checked record by record and then copied to its own output shard
(hard-linked, for the converter's local output: at CelebA's size that is
1.9 GB the disk does not write twice). Memory stays at one record per worker
whatever the data size; the output is as splittable as the input; and every
record is checked first (framing, CRC, and that it parses as a
tf.train.Example), so a truncated or corrupt file is reported by
name and record here, before any statistics are computed.

The component is still TFX's ImportExampleGen (same spec, driver, input
fingerprinting, outputs and MLMD records) with this executor: TFX 1.16's
ImportExampleGen takes no `custom_executor_spec`, so `ImportExampleGen` below
is its subclass with another EXECUTOR_SPEC. It only handles input splits
mapped one to one onto output splits, as the pipeline configures it.
"""

import os
from typing import Any, Dict, Iterator, List, Tuple

from absl import logging
import apache_beam as beam
from google.protobuf import message
import tensorflow as tf
from tfx import types
from tfx.components.example_gen import base_example_gen_executor
from tfx.components.example_gen.import_example_gen import (
    component as import_example_gen)
from tfx.components.example_gen import utils
from tfx.components.example_gen import write_split
from tfx.components.util import examples_utils
from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils
from tfx.types import standard_component_specs
from tfx.utils import proto_utils

from components.celeba import convert
from components.celeba import errors

# Output shard names, in the pattern Beam's own TFRecord sink writes.
_SHARD_NAME = 'data_tfrecord-{index:05d}-of-{count:05d}.gz'


class CorruptExamplesError(ValueError):
  """An input file holds a record that cannot be read or parsed."""


def _compression(path: str) -> str:
  return 'GZIP' if path.endswith('.gz') else ''


def _check_records(source: str) -> int:
  """Reads every record of `source` and parses it; returns the count.

  Raises:
    CorruptExamplesError: naming the file and the record that failed.
  """
  count = 0
  records = tf.data.TFRecordDataset(source,
                                    compression_type=_compression(source))
  try:
    for record in records.as_numpy_iterator():
      count += 1
      tf.train.Example.FromString(record)
  except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as e:
    raise CorruptExamplesError(
        f'{source}: record {count + 1} cannot be read: truncated or corrupt '
        f'TFRecord file ({errors.tensorflow_message(e)})') from None
  except message.DecodeError as e:
    raise CorruptExamplesError(
        f'{source}: record {count} is not a tf.train.Example: {e}') from None
  return count


def converter_output(input_base: str) -> bool:
  """Whether `input_base` is a local folder written by the CelebA converter.

  The converter writes each conversion into a fresh folder and moves it into
  place, never rewriting a file where it lies, and writes its marker last.
  """
  return '://' not in input_base and os.path.exists(
      os.path.join(input_base, convert.MARKER_FILE))


def copy_shard(source: str, destination: str, link: bool = False) -> int:
  """Checks the records of one TFRecord file, then writes it as GZIP.

  A GZIP input (what the converter writes) keeps its bytes once every record
  has been read and parsed: decompressing to check is several times cheaper
  than compressing again, and nothing is written for a file that fails. With
  `link`, for files that are never rewritten in place (the converter's), the
  output is a hard link to the input when both are on one file system: no
  second copy of the data on disk, and deleting the input leaves the output
  whole. Otherwise the bytes are copied. Any other input is written record by
  record into a GZIP file. Returns the number of records.

  Raises:
    CorruptExamplesError: naming the file and the record that failed.
  """
  count = _check_records(source)
  tf.io.gfile.makedirs(os.path.dirname(destination))
  if _compression(source) == 'GZIP':
    if tf.io.gfile.exists(destination):
      tf.io.gfile.remove(destination)
    if link:
      try:
        os.link(source, destination)
        return count
      except OSError:  # another file system (or an object store), no links
        pass
    tf.io.gfile.copy(source, destination)
    return count
  options = tf.io.TFRecordOptions(compression_type='GZIP')
  with tf.io.TFRecordWriter(destination, options) as writer:
    for record in tf.data.TFRecordDataset(source).as_numpy_iterator():
      writer.write(record)
  return count


class _CopyShard(beam.DoFn):
  """(split, input file, output file) -> the output file, written."""

  def __init__(self, link: bool):
    super().__init__()
    self._link = link

  def process(self, task: Tuple[str, str, str]) -> Iterator[Tuple[str, int]]:
    split, source, destination = task
    count = copy_shard(source, destination, self._link)
    logging.info('ImportExampleGen: %s: %d examples from %s', split, count,
                 source)
    yield split, count


def plan(input_base: str, input_config: example_gen_pb2.Input,
         output_split_dirs: Dict[str, str]) -> List[Tuple[str, str, str]]:
  """(split, input file, output file) for every input file of every split."""
  tasks = []
  for split in input_config.splits:
    sources = sorted(tf.io.gfile.glob(os.path.join(input_base, split.pattern)))
    if not sources:
      raise FileNotFoundError(
          f'split {split.name!r}: no files match '
          f'{os.path.join(input_base, split.pattern)}')
    for index, source in enumerate(sources):
      tasks.append((split.name, source, os.path.join(
          output_split_dirs[split.name],
          _SHARD_NAME.format(index=index, count=len(sources)))))
  return tasks


class Executor(base_example_gen_executor.BaseExampleGenExecutor):
  """Copies each input shard of each split to an output shard, checked."""

  def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
    raise NotImplementedError('this executor copies shards (see Do)')

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    self._log_startup(input_dict, output_dict, exec_properties)
    input_config = example_gen_pb2.Input()
    proto_utils.json_to_proto(
        exec_properties[standard_component_specs.INPUT_CONFIG_KEY],
        input_config)
    output_config = example_gen_pb2.Output()
    proto_utils.json_to_proto(
        exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY],
        output_config)
    if output_config.split_config.splits:
      raise ValueError('this ImportExampleGen executor maps input splits one '
                       'to one onto output splits; it cannot hash-partition '
                       'an input into output splits')
    examples = output_dict[standard_component_specs.EXAMPLES_KEY]
    split_names = utils.generate_output_split_names(input_config,
                                                    output_config)
    artifact_utils.get_single_instance(examples).split_names = (
        artifact_utils.encode_split_names(split_names))
    input_base = exec_properties[standard_component_specs.INPUT_BASE_KEY]
    tasks = plan(input_base, input_config,
                 {name: artifact_utils.get_split_uri(examples, name)
                  for name in split_names})
    with self._make_beam_pipeline() as pipeline:
      _ = (pipeline
           | 'Shards' >> beam.Create(tasks)
           # Only file names are shuffled: it spreads the shards over the
           # workers of a distributed runner.
           | 'Spread' >> beam.Reshuffle()
           | 'Copy' >> beam.ParDo(_CopyShard(converter_output(input_base))))
    payload_format = exec_properties.get(
        standard_component_specs.OUTPUT_DATA_FORMAT_KEY)
    file_format = exec_properties.get(
        standard_component_specs.OUTPUT_FILE_FORMAT_KEY)
    for artifact in examples:
      if payload_format:
        examples_utils.set_payload_format(artifact, payload_format)
      if file_format:
        examples_utils.set_file_format(
            artifact, write_split.to_file_format_str(file_format))
    logging.info('ImportExampleGen: copied %d shards', len(tasks))


class ImportExampleGen(import_example_gen.ImportExampleGen):
  """TFX's ImportExampleGen, copying shards with the executor above."""
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
