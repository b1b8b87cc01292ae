"""Conversion to TFRecords: content, layouts, all-or-nothing, skip_bad."""

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from components.celeba import convert as conv
from components.celeba import synth
from tests import celeba_files
from components.celeba import errors
from models import features

N = 30
SEED = 5


@pytest.fixture(scope='module')
def pristine(tmp_path_factory):
  root = tmp_path_factory.mktemp('convert') / 'celeba'
  synth.synthesize(root, N, seed=SEED)
  return root


@pytest.fixture(scope='module')
def converted(pristine, tmp_path_factory):
  out = tmp_path_factory.mktemp('convert') / 'out'
  result = conv.convert(pristine, out)
  return out, result, celeba_files.read_examples(out)


@pytest.fixture
def celeba(pristine, tmp_path):
  return celeba_files.copy_dataset(pristine, tmp_path / 'celeba')


def _snapshot(root: Path):
  return {p.relative_to(root).as_posix(): p.read_bytes()
          for p in sorted(root.rglob('*')) if p.is_file()}


def _table(root: Path):
  lines = (root / 'list_attr_celeba.txt').read_text().splitlines()[2:]
  return {row.split()[0]: row.split()[1:] for row in lines}


def test_every_image_with_its_original_bytes_and_attributes(
    pristine, converted):
  out, result, examples = converted
  plan = synth.plan(N, SEED)
  expected_counts = {split: int((plan.partitions == k).sum())
                     for k, split in enumerate(features.SPLITS)}
  assert result.counts == expected_counts
  assert {
      split: len(examples[split]) for split in features.SPLITS
  } == expected_counts
  table = _table(pristine)
  for split in features.SPLITS:
    for image_id, example in examples[split].items():
      assert example['image'] == (pristine / 'img_align_celeba' /
                                  image_id).read_bytes()
      assert example['image_id'] == image_id.encode()
      assert set(example) == {'image', 'image_id', *features.ATTRIBUTE_NAMES}
      # -1 in the table becomes 0, 1 stays 1.
      assert [example[n] for n in features.ATTRIBUTE_NAMES] == [
          0 if v == '-1' else 1 for v in table[image_id]]
  assert any(0 in [f[n]
                   for n in features.ATTRIBUTE_NAMES]
             for f in examples['train'].values())
  assert sorted(os.listdir(out)) == ['conversion.json', 'eval', 'test', 'train']
  assert os.listdir(out / 'train') == ['data-00000-of-00001.tfrecord.gz']


def test_marker_and_is_converted(pristine, converted, tmp_path):
  out, result, _ = converted
  marker = conv.read_marker(out)
  assert marker['counts'] == result.counts and marker['rejected'] == 0
  assert marker['layout'] == 'official' and marker['source']['image_count'] == N
  assert conv.is_converted(pristine, out)
  assert not conv.is_converted(pristine, tmp_path / 'elsewhere')
  # A changed table or a missing shard means "convert again".
  copy = celeba_files.copy_dataset(pristine, tmp_path / 'changed')
  first = _table(copy)['000001.jpg'][features.ATTRIBUTE_NAMES.index('Smiling')]
  celeba_files.set_attribute(copy, '000001.jpg', 'Smiling',
                        '1' if first == '-1' else '-1')
  assert not conv.is_converted(copy, out)
  celeba_files.set_attribute(copy, '000001.jpg', 'Smiling', first)
  assert conv.is_converted(copy, out)     # the same tables again
  celeba_files.delete_image(copy, '000002.jpg')
  assert not conv.is_converted(copy, out)
  out_copy = shutil.copytree(out, tmp_path / 'out')
  os.remove(out_copy / 'eval' / 'data-00000-of-00001.tfrecord.gz')
  assert not conv.is_converted(pristine, out_copy)


def test_both_layouts_convert_to_identical_examples(pristine, converted,
                                                    tmp_path):
  kaggle = celeba_files.to_kaggle(pristine, tmp_path / 'kaggle')
  result = conv.convert(kaggle, tmp_path / 'out')
  assert result.layout == 'kaggle'
  assert celeba_files.read_examples(tmp_path / 'out') == converted[2]
  assert conv.is_converted(kaggle, tmp_path / 'out')


def _corrupt_image(kind):
  def apply(root):
    if kind == 'truncated':
      path = celeba_files.truncate_jpeg(root, '000004.jpg')
    elif kind == 'png':
      import io  # pylint: disable=g-import-not-at-top
      from PIL import Image  # pylint: disable=g-import-not-at-top
      buf = io.BytesIO()
      Image.new('RGB', (178, 218)).save(buf, 'PNG')
      path = celeba_files.overwrite_image(root, '000004.jpg', buf.getvalue())
    elif kind == 'empty':
      path = celeba_files.overwrite_image(root, '000004.jpg', b'')
    else:
      path = celeba_files.overwrite_image(root, '000004.jpg',
                                     b'\xff\xd8\xff\xe0 not really')
    return path, None
  return apply


def _in_attr(root, line):
  return root / 'list_attr_celeba.txt', line


def _attr_row(change):
  """A case that edits one row of the attribute table."""
  return lambda r: _in_attr(r, change(r))


def _partition_row(change):
  """A case that edits one row of the partition table."""
  return lambda r: (r / 'list_eval_partition.txt', change(r))


def _missing_image(r):
  celeba_files.delete_image(r, '000007.jpg')
  return _in_attr(r, celeba_files.attr_line(r, '000007.jpg'))


BAD_INPUTS = {
    'truncated_jpeg': (_corrupt_image('truncated'), 'undecodable'),
    'png_named_jpg': (_corrupt_image('png'), 'not_jpeg'),
    'empty_jpeg': (_corrupt_image('empty'), 'empty'),
    'garbage_jpeg': (_corrupt_image('garbage'), 'undecodable'),
    'value_2': (_attr_row(lambda r: celeba_files.set_attribute(
        r, '000006.jpg', 'Male', '2')), "Male='2'"),
    'value_0': (_attr_row(lambda r: celeba_files.set_attribute(
        r, '000006.jpg', 'Young', '0')), "Young='0'"),
    'missing_image': (_missing_image, 'missing_image'),
    'no_partition': (_attr_row(lambda r: celeba_files.drop_partition_row(
        r, '000008.jpg')), 'no_partition'),
    'bad_partition': (_partition_row(lambda r: celeba_files.set_partition(
        r, '000009.jpg', '7')), 'bad_partition_value'),
    'no_attributes': (_partition_row(lambda r: celeba_files.drop_attribute_row(
        r, '000010.jpg')), 'no_attributes'),
    **{f'header_{how}': (_attr_row(
        lambda r, how=how: celeba_files.break_header(r, how)), '')
       for how in celeba_files.HEADER_BREAKS},
    **{f'row_{how}': (_attr_row(
        lambda r, how=how: celeba_files.break_row(r, '000011.jpg', how)), '')
       for how in celeba_files.ROW_BREAKS},
}


@pytest.mark.parametrize('case', sorted(BAD_INPUTS))
def test_bad_input_fails_naming_file_and_line_and_leaves_old_output(
    case, celeba, converted, tmp_path):
  corrupt, fragment = BAD_INPUTS[case]
  path, line = corrupt(celeba)
  out = Path(shutil.copytree(converted[0], tmp_path / 'out'))
  before = _snapshot(out)
  with pytest.raises(errors.CelebAFormatError) as err:
    conv.convert(celeba, out)
  assert err.value.path == str(path)
  assert err.value.line == line
  assert fragment in err.value.message
  # old conversion untouched
  assert _snapshot(out) == before
  assert sorted(os.listdir(out)) == ['conversion.json', 'eval', 'test', 'train']
  fresh = tmp_path / 'fresh'
  with pytest.raises(errors.CelebAFormatError):
    conv.convert(celeba, fresh)
  assert not celeba_files.tfrecord_files(fresh) and not fresh.exists()


def test_tables_are_checked_before_any_image(celeba, tmp_path):
  celeba_files.truncate_jpeg(celeba, '000001.jpg')   # first image in file order
  line = celeba_files.set_attribute(celeba, '000020.jpg', 'Bangs', '5')
  with pytest.raises(errors.CelebAFormatError) as err:
    conv.convert(celeba, tmp_path / 'out')
  assert (err.value.path,
          err.value.line) == (str(celeba / 'list_attr_celeba.txt'), line)


def test_skip_bad_converts_the_rest_and_lists_rejections(
    celeba, converted, tmp_path):
  celeba_files.truncate_jpeg(celeba, '000003.jpg')
  value_line = celeba_files.set_attribute(celeba, '000005.jpg', 'Male', '2')
  celeba_files.delete_image(celeba, '000012.jpg')
  celeba_files.drop_partition_row(celeba, '000014.jpg')
  out = tmp_path / 'out'
  result = conv.convert(celeba, out, skip_bad=True)
  bad = ['000003.jpg', '000005.jpg', '000012.jpg', '000014.jpg']
  assert [r.image_id for r in result.rejections] == bad
  assert result.total == N - len(bad)
  with open(out / 'rejected.csv', newline='') as f:
    rows = list(csv.reader(f))
  assert rows[0] == ['image_id', 'reason']
  assert [r[0] for r in rows[1:]] == bad
  reasons = dict(rows[1:])
  assert reasons['000003.jpg'].startswith('undecodable:')
  assert reasons['000005.jpg'].startswith("bad_attribute_value: Male='2'")
  assert reasons['000005.jpg'].endswith(f'(list_attr_celeba.txt:{value_line})')
  assert reasons['000012.jpg'].startswith('missing_image:')
  assert reasons['000014.jpg'].startswith('no_partition:')
  examples = celeba_files.read_examples(out)
  kept = {i for split in examples.values() for i in split}
  everything = {i for split in converted[2].values() for i in split}
  assert kept == everything - set(bad)
  assert conv.read_marker(out)['rejected'] == len(bad)


def test_skip_bad_keeps_malformed_headers_fatal(celeba, tmp_path):
  celeba_files.break_header(celeba, 'drop_attribute')
  with pytest.raises(errors.CelebAFormatError):
    conv.convert(celeba, tmp_path / 'out', skip_bad=True)
  assert not (tmp_path / 'out').exists()


def test_rerun_replaces_output_and_drops_stale_rejections(
    pristine, celeba, tmp_path):
  out = tmp_path / 'out'
  celeba_files.delete_image(celeba, '000002.jpg')
  conv.convert(celeba, out, skip_bad=True, num_shards=2)
  assert (out / 'rejected.csv').exists()
  assert len(os.listdir(out / 'train')) == 2
  result = conv.convert(pristine, out)
  assert result.total == N and not (out / 'rejected.csv').exists()
  assert os.listdir(out / 'train') == ['data-00000-of-00001.tfrecord.gz']
  assert [p.name for p in out.iterdir() if p.name.startswith('.')] == []
  assert conv.is_converted(pristine, out)


def test_refuses_to_replace_foreign_files(pristine, tmp_path):
  out = tmp_path / 'out'
  (out / 'train').mkdir(parents=True)
  (out / 'train' / 'notes.txt').write_text('mine')
  with pytest.raises(FileExistsError, match='notes.txt'):
    conv.convert(pristine, out)
  assert (out / 'train' / 'notes.txt').read_text() == 'mine'
  assert not celeba_files.tfrecord_files(out)


def test_removes_temporaries_of_killed_runs(pristine, tmp_path):
  dead = subprocess.Popen(['true'])
  dead.wait()
  out = tmp_path / 'out'
  stale = out / f'.tmp-{dead.pid}' / 'train'
  stale.mkdir(parents=True)
  (stale / 'data-00000-of-00001.tfrecord.gz').write_bytes(b'partial')
  conv.convert(pristine, out)
  assert not stale.parent.exists()


@pytest.mark.e2e  # starts two writer interpreters, each importing TF
def test_two_processes_write_the_same_examples(pristine, converted, tmp_path):
  result = conv.convert(pristine, tmp_path / 'out', workers=2, num_shards=3)
  assert result.processes == 2
  assert {split: len(files) for split, files in result.files.items()} == {
      split: min(3, count) for split, count in result.counts.items()}
  assert celeba_files.read_examples(tmp_path / 'out') == converted[2]


def test_a_failure_while_swapping_puts_the_old_splits_back(
    pristine, converted, tmp_path, monkeypatch):
  out = Path(shutil.copytree(converted[0], tmp_path / 'out'))
  before = _snapshot(out)
  real_rename = Path.rename

  def failing_rename(self, target):
    if self.name == 'test' and '.tmp-' in str(self):
      raise OSError('simulated failure')
    return real_rename(self, target)

  monkeypatch.setattr(Path, 'rename', failing_rename)
  with pytest.raises(OSError, match='simulated'):
    conv.convert(pristine, out, num_shards=2)
  monkeypatch.undo()
  assert _snapshot(out) == before
  assert sorted(os.listdir(out)) == ['conversion.json', 'eval', 'test', 'train']
  assert conv.is_converted(pristine, out)
