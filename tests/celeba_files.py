"""Damage a generated CelebA in every way the converter must catch.

Each corruption edits a set in the official layout (as `synth.synthesize`
writes it) in place and returns what a test needs to check the error: the
1-based line number the converter should report, or the path of the file it
should name. `to_kaggle` rewrites a set in the Kaggle layout, and
`read_examples` reads a conversion back.
"""

import os
import shutil
from pathlib import Path
from typing import Any, Dict, List, Union

from components.celeba import synth
from models import features

PathLike = Union[str, Path]


def copy_dataset(src: PathLike, dst: PathLike) -> Path:
  """Copies a generated set (cheap for the few dozen images tests use)."""
  shutil.copytree(src, dst)
  return Path(dst)


def _read_lines(path: Path) -> List[str]:
  return path.read_text(encoding='utf-8').splitlines(keepends=True)


def _write_lines(path: Path, lines: List[str]) -> None:
  path.write_text(''.join(lines), encoding='utf-8')


def _row_index(lines: List[str], image_id: str) -> int:
  for i, line in enumerate(lines):
    if line.split(None, 1)[:1] == [image_id] or line.startswith(image_id + ','):
      return i
  raise KeyError(f'{image_id} is not in the table')


def attr_line(celeba_dir: PathLike, image_id: str) -> int:
  """1-based line of `image_id`'s row in list_attr_celeba.txt."""
  return _row_index(_read_lines(Path(celeba_dir) / synth.ATTR_FILE),
                    image_id) + 1


def partition_line(celeba_dir: PathLike, image_id: str) -> int:
  """1-based line of `image_id`'s row in list_eval_partition.txt."""
  return _row_index(_read_lines(Path(celeba_dir) / synth.PARTITION_FILE),
                    image_id) + 1


def image_path(celeba_dir: PathLike, image_id: str) -> Path:
  return Path(celeba_dir) / synth.IMAGES_DIR / image_id


def truncate_jpeg(celeba_dir: PathLike, image_id: str,
                  keep: float = 0.5) -> Path:
  """Cuts an image to `keep` of its bytes, as an interrupted download does."""
  path = image_path(celeba_dir, image_id)
  data = path.read_bytes()
  path.write_bytes(data[:int(len(data) * keep)])
  return path


def overwrite_image(celeba_dir: PathLike, image_id: str, data: bytes) -> Path:
  """Replaces an image's bytes (e.g. with a PNG or garbage)."""
  path = image_path(celeba_dir, image_id)
  path.write_bytes(data)
  return path


def delete_image(celeba_dir: PathLike, image_id: str) -> Path:
  path = image_path(celeba_dir, image_id)
  path.unlink()
  return path


def set_attribute(celeba_dir: PathLike, image_id: str, name: str,
                  raw: str) -> int:
  """Writes `raw` (e.g. '0' or '2') as `name`'s value in `image_id`'s row.

  Keeps the file's padding (values right-aligned in 3 columns). Returns the
  row's line number.
  """
  path = Path(celeba_dir) / synth.ATTR_FILE
  lines = _read_lines(path)
  i = _row_index(lines, image_id)
  fields = lines[i].split()
  fields[1 + features.ATTRIBUTE_NAMES.index(name)] = raw
  lines[i] = fields[0] + ''.join(f'{v:>3}' for v in fields[1:]) + '\n'
  _write_lines(path, lines)
  return i + 1


def drop_partition_row(celeba_dir: PathLike, image_id: str) -> int:
  """Deletes `image_id` from list_eval_partition.txt.

  Returns its line in list_attr_celeba.txt, where the converter reports it.
  """
  path = Path(celeba_dir) / synth.PARTITION_FILE
  lines = _read_lines(path)
  del lines[_row_index(lines, image_id)]
  _write_lines(path, lines)
  return attr_line(celeba_dir, image_id)


def drop_attribute_row(celeba_dir: PathLike, image_id: str) -> int:
  """Deletes `image_id`'s attribute row and fixes the count on line 1.

  Returns its line in list_eval_partition.txt, where the converter reports it.
  """
  path = Path(celeba_dir) / synth.ATTR_FILE
  lines = _read_lines(path)
  del lines[_row_index(lines, image_id)]
  lines[0] = f'{len(lines) - 2}\n'
  _write_lines(path, lines)
  return partition_line(celeba_dir, image_id)


def set_partition(celeba_dir: PathLike, image_id: str, raw: str) -> int:
  """Writes `raw` as `image_id`'s partition; returns the partition line."""
  path = Path(celeba_dir) / synth.PARTITION_FILE
  lines = _read_lines(path)
  i = _row_index(lines, image_id)
  lines[i] = f'{image_id} {raw}\n'
  _write_lines(path, lines)
  return i + 1


HEADER_BREAKS = ('count_mismatch', 'count_not_a_number', 'rename_attribute',
                 'drop_attribute', 'duplicate_attribute', 'no_names')


def break_header(celeba_dir: PathLike, how: str) -> int:
  """Damages list_attr_celeba.txt's two header lines; returns the line to blame.

  how: one of HEADER_BREAKS.
  """
  path = Path(celeba_dir) / synth.ATTR_FILE
  lines = _read_lines(path)
  names = lines[1].split()
  if how == 'count_mismatch':
    lines[0] = f'{int(lines[0]) + 1}\n'
    blame = 1
  elif how == 'count_not_a_number':
    lines[0] = 'images\n'
    blame = 1
  elif how == 'rename_attribute':
    names[20] = 'Man'
    lines[1] = ' '.join(names) + ' \n'
    blame = 2
  elif how == 'drop_attribute':
    lines[1] = ' '.join(names[:-1]) + ' \n'
    blame = 2
  elif how == 'duplicate_attribute':
    names[3] = names[2]
    lines[1] = ' '.join(names) + ' \n'
    blame = 2
  elif how == 'no_names':
    del lines[1]
    blame = 2   # the first data row now sits where the names should be
  else:
    raise ValueError(f'unknown header break {how!r}; one of {HEADER_BREAKS}')
  _write_lines(path, lines)
  return blame


ROW_BREAKS = ('drop_value', 'extra_value', 'bad_file_name', 'duplicate_row',
              'blank_line')


def break_row(celeba_dir: PathLike, image_id: str, how: str) -> int:
  """Damages `image_id`'s attribute row; returns the line to blame.

  how: one of ROW_BREAKS.
  """
  path = Path(celeba_dir) / synth.ATTR_FILE
  lines = _read_lines(path)
  i = _row_index(lines, image_id)
  fields = lines[i].split()
  if how == 'drop_value':
    lines[i] = fields[0] + ''.join(f'{v:>3}' for v in fields[2:]) + '\n'
  elif how == 'extra_value':
    lines[i] = lines[i].rstrip('\n') + '  1\n'
  elif how == 'bad_file_name':
    lines[i] = ''.join(f'{v:>3}' for v in fields[1:]).lstrip() + '  1\n'
  elif how == 'duplicate_row':
    lines.insert(i + 1, lines[i])
    lines[0] = f'{len(lines) - 2}\n'
    _write_lines(path, lines)
    return i + 2
  elif how == 'blank_line':
    lines.insert(i, '\n')
  else:
    raise ValueError(f'unknown row break {how!r}; one of {ROW_BREAKS}')
  _write_lines(path, lines)
  return i + 1


def to_kaggle(official_dir: PathLike, kaggle_dir: PathLike) -> Path:
  """Rewrites an official-layout set in the Kaggle layout (CSV, nested)."""
  src, dst = Path(official_dir), Path(kaggle_dir)
  images = dst / synth.IMAGES_DIR / synth.IMAGES_DIR
  images.parent.mkdir(parents=True, exist_ok=True)
  shutil.copytree(src / synth.IMAGES_DIR, images)
  attr = _read_lines(src / synth.ATTR_FILE)
  rows = ['image_id,' + ','.join(attr[1].split()) + '\n']
  rows += [','.join(line.split()) + '\n' for line in attr[2:]]
  (dst / 'list_attr_celeba.csv').write_text(''.join(rows))
  parts = ['image_id,partition\n']
  parts += [
      ','.join(line.split()) + '\n'
      for line in _read_lines(src / synth.PARTITION_FILE)
  ]
  (dst / 'list_eval_partition.csv').write_text(''.join(parts))
  return dst


def tfrecord_files(output_dir: PathLike) -> List[Path]:
  """Every *.tfrecord.gz anywhere under `output_dir` (temporary folders too)."""
  return sorted(Path(output_dir).rglob('*.tfrecord.gz')) if os.path.isdir(
      output_dir) else []


def read_examples(output_dir: PathLike) -> Dict[str, Dict[str, Dict[str, Any]]]:
  """Reads a conversion back: split -> image_id -> {feature: value}.

  Bytes features come back as bytes, int64 features as int.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  result: Dict[str, Dict[str, Dict[str, Any]]] = {}
  for split_dir in sorted(p for p in Path(output_dir).iterdir()
                          if p.is_dir() and not p.name.startswith('.')):
    examples = result.setdefault(split_dir.name, {})
    files = sorted(str(p) for p in split_dir.glob('*.tfrecord.gz'))
    for record in tf.data.TFRecordDataset(files, compression_type='GZIP'):
      example = tf.train.Example.FromString(record.numpy())
      values: Dict[str, Any] = {}
      for key, feature in example.features.feature.items():
        kind = feature.WhichOneof('kind')
        items = list(getattr(feature, kind).value)
        values[key] = items[0] if len(items) == 1 else items
      examples[values['image_id'].decode()] = values
  return result
