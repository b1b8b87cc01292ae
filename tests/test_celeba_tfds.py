"""The TFDS layout: celeb_a as tensorflow-datasets' own builder writes it.

Every TFDS folder here is written by TFDS itself (tests/tfds_celeba.py), from
the same generated images the official-layout tests convert, so the two
conversions can be compared example by example.
"""

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from components.celeba import local_data
from components.celeba import convert as conv
from components.celeba import synth
from tests import celeba_files
from components.celeba import tfds as tfds_layout
from components.celeba import errors
from models import features
from tests import tfds_celeba

N = 30
SEED = 5
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='module')
def official(tmp_path_factory):
  root = tmp_path_factory.mktemp('tfds') / 'celeba'
  synth.synthesize(root, N, seed=SEED)
  return root


@pytest.fixture(scope='module')
def prepared(official, tmp_path_factory):
  """celeb_a/2.1.0 as TFDS prepares it, two shards per split."""
  return tfds_celeba.prepare(official, tmp_path_factory.mktemp('tfds') / 'data',
                             num_shards=2)


@pytest.fixture(scope='module')
def both(official, prepared, tmp_path_factory):
  """(official conversion, TFDS conversion, TFDS result), read back."""
  tmp = tmp_path_factory.mktemp('tfds')
  conv.convert(official, tmp / 'official')
  result = conv.convert(prepared, tmp / 'tfds')
  return (celeba_files.read_examples(tmp / 'official'),
          celeba_files.read_examples(tmp / 'tfds'), result)


@pytest.fixture
def damaged(prepared, tmp_path):
  """A copy of the prepared folder to damage."""
  return tfds_celeba.copy(prepared, tmp_path / 'data')


def _by_image(examples):
  return {f[features.IMAGE_KEY]: f for f in examples.values()}


def test_the_prepared_folder_is_what_tfds_writes(prepared):
  names = sorted(p.name for p in prepared.iterdir())
  assert names == sorted(
      ['dataset_info.json', 'features.json'] +
      [f'celeb_a-{s}.tfrecord-0000{k}-of-00002'
       for s in ('train', 'validation', 'test') for k in (0, 1)])


def test_same_examples_as_the_official_layout(both):
  official, converted, result = both
  assert result.layout == 'tfds'
  assert set(converted) == set(features.SPLITS)
  for split in features.SPLITS:
    expected = _by_image(official[split])
    got = _by_image(converted[split])
    # validation became eval, and every image kept its bytes and partition.
    assert set(got) == set(expected) and len(got) == len(converted[split])
    for jpeg, example in got.items():
      twin = expected[jpeg]
      assert set(example) == set(twin) == {
          features.IMAGE_KEY, features.IMAGE_ID_KEY, *features.ATTRIBUTE_NAMES}
      assert ([example[n] for n in features.ATTRIBUTE_NAMES] ==
              [twin[n] for n in features.ATTRIBUTE_NAMES])
  assert result.counts == {s: len(official[s]) for s in features.SPLITS}
  assert any(f['Male'] == 0 for f in converted['train'].values())
  assert any(f['Male'] == 1 for f in converted['train'].values())


def test_image_id_is_the_split_and_position(prepared, both):
  _, converted, _ = both
  for split, tfds_split in (('train', 'train'), ('eval', 'validation'),
                            ('test', 'test')):
    records = [r for shard in tfds_celeba.shards(prepared, tfds_split)
               for r in tfds_celeba.read_records(shard)]
    images = [tfds_celeba.tf.train.Example.FromString(r).features.feature[
        'image'].bytes_list.value[0] for r in records]
    ids = {f'{tfds_split}-{k + 1:06d}': jpeg for k, jpeg in enumerate(images)}
    assert {i: f[features.IMAGE_KEY]
            for i, f in converted[split].items()} == ids


def test_output_follows_tfds_shards_unless_num_shards_says(
    prepared, both, tmp_path):
  _, converted, result = both
  assert result.files == {
      s: ['data-00000-of-00002.tfrecord.gz', 'data-00001-of-00002.tfrecord.gz']
      for s in features.SPLITS
  }
  recut = conv.convert(prepared, tmp_path / 'out', num_shards=3)
  assert len(recut.files['train']) == 3
  again = celeba_files.read_examples(tmp_path / 'out')
  assert again == converted


def test_the_parent_of_one_version_is_accepted(prepared, tmp_path):
  result = conv.convert(prepared.parent, tmp_path / 'out')
  assert result.layout == 'tfds' and result.total == N
  assert conv.read_marker(tmp_path / 'out')['source_dir'] == str(
      prepared.resolve())


def test_a_parent_with_two_versions_asks_for_one(damaged, tmp_path):
  shutil.copytree(damaged, damaged.parent / '2.0.1')
  assert sorted(p.name for p in damaged.parent.iterdir()) == ['2.0.1', '2.1.0']
  with pytest.raises(errors.CelebAFormatError,
                     match=r'several TFDS versions here \(2\.0\.1, 2\.1\.0\)'):
    conv.convert(damaged.parent, tmp_path / 'out')


def test_a_tfds_data_dir_points_to_its_celeb_a_folder(prepared, tmp_path):
  data_dir = prepared.parent.parent
  with pytest.raises(errors.CelebAFormatError,
                     match='a TFDS data_dir: pass its celeb_a folder'):
    conv.convert(data_dir, tmp_path / 'out')


def test_is_converted_follows_the_source(prepared, damaged, tmp_path):
  out = tmp_path / 'out'
  conv.convert(damaged, out)
  assert conv.is_converted(damaged, out)
  marker = conv.read_marker(out)
  assert marker['layout'] == 'tfds' and marker['source']['image_count'] == N
  shard = tfds_celeba.shards(damaged, 'test')[0]
  tfds_celeba.write_records(shard, tfds_celeba.read_records(shard)[:0])
  assert not conv.is_converted(damaged, out)


def test_local_runner_data_resolution_converts_a_tfds_folder(
    prepared, tmp_path):
  root = local_data.resolve_data_root(data_dir=None, celeba_dir=str(prepared),
                                      converted_dir=str(tmp_path / 'rec'),
                                      sample_dir=str(tmp_path / 'sample'),
                                      sample_images=10, sample_seed=0)
  assert conv.read_marker(root)['layout'] == 'tfds'
  assert not local_data.is_generated(root)


# ------------------------------------------------------------------ bad input

def _assert_nothing_written(out: Path):
  assert not out.exists() or not celeba_files.tfrecord_files(out)


@pytest.mark.parametrize('kind, name', [('dummy_mnist', 'dummy_mnist 3.0.1'),
                                        ('celeb_a_0.9.0', 'celeb_a 0.9.0')])
def test_another_data_set_or_version_without_attributes(kind, name, tmp_path):
  version_dir = tfds_celeba.prepare_other(kind, tmp_path / 'data')
  with pytest.raises(errors.CelebAFormatError) as e:
    conv.convert(version_dir, tmp_path / 'out')
  assert e.value.path == str(version_dir / 'features.json')
  assert f'the TFDS data set {name} has no CelebA attributes' in e.value.message
  _assert_nothing_written(tmp_path / 'out')


def test_truncated_shard_names_the_shard_and_record(prepared, damaged,
                                                    tmp_path):
  out = tmp_path / 'out'
  conv.convert(prepared, out)
  before = celeba_files.read_examples(out)
  shard = tfds_celeba.shards(damaged, 'train')[1]
  offsets = tfds_celeba.record_offsets(shard)
  data = shard.read_bytes()
  shard.write_bytes(data[:offsets[4] + 100])   # record 5 is cut short
  with pytest.raises(errors.CelebAFormatError) as e:
    conv.convert(damaged, out, skip_bad=True)
  assert (e.value.path, e.value.line) == (str(shard), 5)
  assert e.value.message.startswith(
      'truncated or corrupt shard: record 5 cannot be read')
  # The earlier conversion is untouched, and nothing half-written is left.
  assert celeba_files.read_examples(out) == before
  assert sorted(os.listdir(out)) == ['conversion.json', 'eval', 'test', 'train']


def test_corrupt_record_names_the_shard_and_record(damaged, tmp_path):
  shard = tfds_celeba.shards(damaged, 'validation')[0]
  offsets = tfds_celeba.record_offsets(shard)
  data = bytearray(shard.read_bytes())
  data[offsets[1] + 40] ^= 0xFF   # inside record 2's image: its checksum fails
  shard.write_bytes(bytes(data))
  with pytest.raises(errors.CelebAFormatError) as e:
    conv.convert(damaged, tmp_path / 'out', skip_bad=True)
  assert (e.value.path, e.value.line) == (str(shard), 2)
  assert e.value.message.startswith(
      'truncated or corrupt shard: record 2 cannot be read (corrupted record')
  _assert_nothing_written(tmp_path / 'out')


def test_shard_cut_at_a_record_boundary(damaged, tmp_path):
  shard = tfds_celeba.shards(damaged, 'validation')[0]
  records = tfds_celeba.read_records(shard)
  tfds_celeba.write_records(shard, records[:-1])
  with pytest.raises(errors.CelebAFormatError) as e:
    conv.convert(damaged, tmp_path / 'out')
  assert (e.value.path, e.value.line) == (str(shard), len(records))
  assert e.value.message == (
      f'truncated shard: it ends after {len(records) - 1} '
      f'records, dataset_info.json lists {len(records)}')
  _assert_nothing_written(tmp_path / 'out')


def test_shard_with_a_record_too_many(damaged, tmp_path):
  shard = tfds_celeba.shards(damaged, 'test')[1]
  records = tfds_celeba.read_records(shard)
  tfds_celeba.write_records(shard, records + records[:1])
  with pytest.raises(errors.CelebAFormatError,
                     match='holds more records than the 1') as e:
    conv.convert(damaged, tmp_path / 'out')
  assert (e.value.path, e.value.line) == (str(shard), 2)


def test_missing_shard(damaged, tmp_path):
  shard = tfds_celeba.shards(damaged, 'train')[0]
  shard.unlink()
  with pytest.raises(errors.CelebAFormatError, match='missing shard') as e:
    conv.convert(damaged, tmp_path / 'out')
  assert e.value.path == str(shard)


def _position(shard: Path, index: int) -> str:
  """The image_id of record `index` (0-based) of a shard."""
  split = shard.name.split('-')[1].split('.')[0]
  earlier = [s for s in tfds_celeba.shards(shard.parent, split) if s < shard]
  before = sum(len(tfds_celeba.read_records(s)) for s in earlier)
  return tfds_layout.image_id(split, before + index)


def test_record_missing_an_attribute(damaged, tmp_path):
  shard = tfds_celeba.shards(damaged, 'train')[1]
  tfds_celeba.edit_record(
      shard, 2, lambda e: e.features.feature.pop('attributes/Young'))
  record_id = _position(shard, 2)
  with pytest.raises(errors.CelebAFormatError) as e:
    conv.convert(damaged, tmp_path / 'out')
  assert (e.value.path, e.value.line) == (str(shard), 3)
  assert e.value.message == (f'missing_attribute: {record_id} has no '
                             'attributes/Young')
  assert str(e.value).startswith(f'{shard}:3: missing_attribute')
  _assert_nothing_written(tmp_path / 'out')


def test_attribute_other_than_0_or_1(damaged, tmp_path):
  shard = tfds_celeba.shards(damaged, 'test')[0]

  def set_male(example):
    example.features.feature['attributes/Male'].int64_list.value[0] = 2
  tfds_celeba.edit_record(shard, 0, set_male)
  with pytest.raises(errors.CelebAFormatError) as e:
    conv.convert(damaged, tmp_path / 'out')
  assert (e.value.path, e.value.line) == (str(shard), 1)
  assert e.value.message == ('bad_attribute_value: attributes/Male=[2], '
                             'expected 0 or 1')


def _break_image(shard: Path, index: int) -> None:
  def cut(example):
    image = example.features.feature['image'].bytes_list
    image.value[0] = image.value[0][:len(image.value[0]) // 3]
  tfds_celeba.edit_record(shard, index, cut)


def test_undecodable_image_fails_without_skip_bad(damaged, tmp_path):
  shard = tfds_celeba.shards(damaged, 'train')[0]
  _break_image(shard, 1)
  with pytest.raises(errors.CelebAFormatError) as e:
    conv.convert(damaged, tmp_path / 'out')
  assert (e.value.path, e.value.line) == (str(shard), 2)
  assert e.value.message.startswith('undecodable: ')
  _assert_nothing_written(tmp_path / 'out')


def test_skip_bad_sets_bad_records_aside(damaged, both, tmp_path):
  _, good, _ = both
  train = tfds_celeba.shards(damaged, 'train')
  _break_image(train[0], 1)
  tfds_celeba.edit_record(
      train[1], 0, lambda e: e.features.feature.pop('attributes/Male'))
  broken = {_position(train[0], 1), _position(train[1], 0)}
  out = tmp_path / 'out'
  result = conv.convert(damaged, out, skip_bad=True)
  assert {r.image_id for r in result.rejections} == broken
  assert result.counts['train'] == len(good['train']) - 2
  converted = celeba_files.read_examples(out)
  assert converted['train'] == {i: f for i, f in good['train'].items()
                                if i not in broken}
  with open(out / 'rejected.csv', newline='') as f:
    rows = list(csv.reader(f))
  assert rows[0] == ['image_id', 'reason']
  reasons = dict(rows[1:])
  assert reasons[_position(train[0], 1)].startswith('undecodable: ')
  assert reasons[_position(train[0], 1)].endswith(f'({train[0].name}:2)')
  assert reasons[_position(train[1], 0)] == (
      f'missing_attribute: {_position(train[1], 0)} has no attributes/Male '
      f'({train[1].name}:1)')


@pytest.mark.e2e  # runs a whole program
def test_cli_reports_bad_tfds_input_with_exit_status_2(damaged, tmp_path):
  shard = tfds_celeba.shards(damaged, 'validation')[1]
  tfds_celeba.edit_record(
      shard, 0, lambda e: e.features.feature.pop('attributes/Bald'))
  proc = subprocess.run(
      [sys.executable, '-m', 'components.celeba', 'convert', '--celeba_dir',
       str(damaged.parent), '--output_dir', str(tmp_path / 'out'), '--quiet'],
      cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
  assert proc.returncode == 2, proc.stderr
  assert proc.stderr.strip().splitlines()[-1] == (
      f'error: {shard}:1: missing_attribute: {_position(shard, 0)} has no '
      'attributes/Bald')
  _assert_nothing_written(tmp_path / 'out')
