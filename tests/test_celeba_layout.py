"""Layout detection and strict table parsing (no TensorFlow, no decoding)."""

import shutil

import pytest

from components.celeba import layout
from components.celeba import synth
from tests import celeba_files
from components.celeba import errors
from models import features

N = 24


@pytest.fixture(scope='module')
def pristine(tmp_path_factory):
  root = tmp_path_factory.mktemp('layout') / 'celeba'
  synth.synthesize(root, N, seed=11)
  return root


@pytest.fixture
def celeba(pristine, tmp_path):
  return celeba_files.copy_dataset(pristine, tmp_path / 'celeba')


def _catalog(root, **kwargs):
  return layout.read_catalog(layout.detect_layout(root), **kwargs)


def _summary(catalog):
  return [(e.image_id, e.split, e.values) for e in catalog.entries]


def test_detects_official(pristine):
  found = layout.detect_layout(pristine)
  assert found.kind == layout.OFFICIAL
  assert found.images_dir == pristine / 'img_align_celeba'
  catalog = layout.read_catalog(found)
  assert len(catalog.entries) == N and not catalog.rejections
  partitions = dict(
      line.split()
      for line in (pristine /
                   'list_eval_partition.txt').read_text().splitlines())
  assert all(e.split == {
      '0': 'train',
      '1': 'eval',
      '2': 'test'
  }[partitions[e.image_id]] for e in catalog.entries)


def test_detects_kaggle_with_the_same_content(pristine, tmp_path):
  kaggle = celeba_files.to_kaggle(pristine, tmp_path / 'kaggle')
  found = layout.detect_layout(kaggle)
  assert found.kind == layout.KAGGLE
  assert found.images_dir == kaggle / 'img_align_celeba' / 'img_align_celeba'
  assert _summary(layout.read_catalog(found)) == _summary(_catalog(pristine))


def test_kaggle_tables_with_flat_images_still_found(pristine, tmp_path):
  kaggle = celeba_files.to_kaggle(pristine, tmp_path / 'kaggle')
  nested = kaggle / 'img_align_celeba'
  shutil.move(str(nested / 'img_align_celeba'), str(tmp_path / 'images'))
  nested.rmdir()
  shutil.move(str(tmp_path / 'images'), str(nested))
  assert layout.detect_layout(kaggle).images_dir == nested


def test_neither_layout_is_a_clear_error(celeba):
  (celeba / 'list_eval_partition.txt').unlink()
  with pytest.raises(errors.CelebAFormatError) as err:
    layout.detect_layout(celeba)
  assert 'list_eval_partition.txt' in str(err.value)
  assert 'found only list_attr_celeba.txt' in str(err.value)
  assert err.value.path == str(celeba)
  with pytest.raises(errors.CelebAFormatError, match='not a directory'):
    layout.detect_layout(celeba / 'nothing-here')


def test_no_images_is_a_clear_error(celeba):
  shutil.rmtree(celeba / 'img_align_celeba')
  with pytest.raises(errors.CelebAFormatError,
                     match='no JPEG images found in img_align_celeba/'):
    layout.detect_layout(celeba)


def test_crlf_bom_and_trailing_blank_lines_are_fine(pristine, celeba):
  for name in ('list_attr_celeba.txt', 'list_eval_partition.txt'):
    path = celeba / name
    path.write_bytes(path.read_bytes().replace(b'\n', b'\r\n') + b'\r\n\n  \n')
  assert _summary(_catalog(celeba)) == _summary(_catalog(pristine))


def test_attribute_columns_in_another_order_are_mapped_by_name(
    pristine, celeba):
  path = celeba / 'list_attr_celeba.txt'
  lines = path.read_text().splitlines()
  swapped = [lines[0], ' '.join(reversed(lines[1].split()))]
  swapped += [
      row.split()[0] + ' ' + ' '.join(reversed(row.split()[1:]))
      for row in lines[2:]
  ]
  path.write_text('\n'.join(swapped) + '\n')
  assert _summary(_catalog(celeba)) == _summary(_catalog(pristine))


def test_minus_one_reads_as_zero(pristine):
  first = (pristine /
           'list_attr_celeba.txt').read_text().splitlines()[2].split()
  entry = next(e for e in _catalog(pristine).entries if e.image_id == first[0])
  assert list(entry.values) == [1 if v == '1' else 0 for v in first[1:]]
  assert set(entry.values) <= {0, 1}


@pytest.mark.parametrize('how', celeba_files.HEADER_BREAKS)
def test_header_errors_name_file_and_line_even_with_skip_bad(celeba, how):
  line = celeba_files.break_header(celeba, how)
  for skip_bad in (False, True):
    with pytest.raises(errors.CelebAFormatError) as err:
      _catalog(celeba, skip_bad=skip_bad)
    assert err.value.path == str(celeba / 'list_attr_celeba.txt')
    assert err.value.line == line
    assert f'list_attr_celeba.txt:{line}: ' in str(err.value)


@pytest.mark.parametrize('how', celeba_files.ROW_BREAKS)
def test_row_errors_name_file_and_line_even_with_skip_bad(celeba, how):
  line = celeba_files.break_row(celeba, '000005.jpg', how)
  for skip_bad in (False, True):
    with pytest.raises(errors.CelebAFormatError) as err:
      _catalog(celeba, skip_bad=skip_bad)
    assert (err.value.path,
            err.value.line) == (str(celeba / 'list_attr_celeba.txt'), line)


def test_error_messages_say_what_is_wrong(celeba):
  celeba_files.break_header(celeba, 'rename_attribute')
  with pytest.raises(errors.CelebAFormatError,
                     match=r"missing Male; unknown 'Man'"):
    _catalog(celeba)


def test_bad_value_names_the_column_and_counts_the_other_bad_rows(celeba):
  line = celeba_files.set_attribute(celeba, '000003.jpg', 'Male', '2')
  celeba_files.set_attribute(celeba, '000007.jpg', 'Young', '0')
  celeba_files.delete_image(celeba, '000009.jpg')
  with pytest.raises(errors.CelebAFormatError) as err:
    _catalog(celeba)
  assert err.value.line == line == 5
  assert "Male='2'" in err.value.message
  assert 'and 2 more bad images' in err.value.message


def test_kaggle_errors_use_csv_line_numbers(pristine, tmp_path):
  kaggle = celeba_files.to_kaggle(pristine, tmp_path / 'kaggle')
  path = kaggle / 'list_attr_celeba.csv'
  lines = path.read_text().splitlines()
  lines[4] = lines[4].replace(',-1', ',0', 1).replace(',1', ',0', 1)
  path.write_text('\n'.join(lines) + '\n')
  with pytest.raises(errors.CelebAFormatError) as err:
    _catalog(kaggle)
  assert (err.value.path, err.value.line) == (str(path), 5)
  path.write_text('id,' + ','.join(features.ATTRIBUTE_NAMES) + '\n')
  with pytest.raises(errors.CelebAFormatError,
                     match='must start with image_id') as err:
    _catalog(kaggle)
  assert err.value.line == 1
  (kaggle / 'list_eval_partition.csv').write_text('image,split\n')
  with pytest.raises(errors.CelebAFormatError, match='image_id,partition'):
    layout.read_partitions(layout.detect_layout(kaggle))


def test_partition_table_errors(celeba):
  path = celeba / 'list_eval_partition.txt'
  lines = path.read_text().splitlines()
  lines[6] += ' 1'
  path.write_text('\n'.join(lines) + '\n')
  with pytest.raises(errors.CelebAFormatError,
                     match='expected 2 fields') as err:
    _catalog(celeba, skip_bad=True)
  assert (err.value.path, err.value.line) == (str(path), 7)


def test_not_text_is_reported_with_its_line(celeba):
  path = celeba / 'list_eval_partition.txt'
  lines = path.read_bytes().split(b'\n')
  lines[2] = b'\xff\xfe\x00garbage'
  path.write_bytes(b'\n'.join(lines))
  with pytest.raises(errors.CelebAFormatError, match='not valid UTF-8') as err:
    _catalog(celeba)
  assert err.value.line == 3


def test_skip_bad_turns_per_image_problems_into_rejections(celeba):
  celeba_files.set_attribute(celeba, '000002.jpg', 'Smiling', '0')
  celeba_files.drop_partition_row(celeba, '000004.jpg')
  celeba_files.set_partition(celeba, '000006.jpg', '3')
  celeba_files.delete_image(celeba, '000008.jpg')
  celeba_files.drop_attribute_row(celeba, '000010.jpg')
  catalog = _catalog(celeba, skip_bad=True)
  kinds = {r.image_id: r.reason.split(':')[0] for r in catalog.rejections}
  assert kinds == {
      '000002.jpg': 'bad_attribute_value',
      '000004.jpg': 'no_partition',
      '000006.jpg': 'bad_partition_value',
      '000008.jpg': 'missing_image',
      '000010.jpg': 'no_attributes'
  }
  assert len(catalog.entries) == N - 5


def test_fingerprint_follows_tables_and_image_names(celeba):
  found = layout.detect_layout(celeba)
  before = layout.source_fingerprint(found)
  assert layout.source_fingerprint(found) == before
  celeba_files.delete_image(celeba, '000001.jpg')
  after_delete = layout.source_fingerprint(found)
  assert after_delete['fingerprint'] != before['fingerprint']
  row = (celeba / 'list_attr_celeba.txt').read_text().splitlines()[3].split()
  smiling = row[1 + features.ATTRIBUTE_NAMES.index('Smiling')]
  celeba_files.set_attribute(celeba, row[0], 'Smiling',
                        '1' if smiling == '-1' else '-1')
  changed = layout.source_fingerprint(found)
  assert changed['attributes_sha256'] != after_delete['attributes_sha256']
  assert changed['fingerprint'] != after_delete['fingerprint']


def test_error_pickles_intact():
  import pickle
  err = pickle.loads(
      pickle.dumps(errors.CelebAFormatError('bad', '/x/list.txt', 7)))
  assert (err.message, err.path, err.line,
          str(err)) == ('bad', '/x/list.txt', 7, '/x/list.txt:7: bad')
  assert str(errors.CelebAFormatError('bad', '/x/a.jpg')) == '/x/a.jpg: bad'
