"""Finds CelebA's files on disk and reads its tables, strictly.

Three layouts are accepted (DESIGN.md, "Data contracts"):

  official  list_attr_celeba.txt, list_eval_partition.txt,
            img_align_celeba/*.jpg
  kaggle    list_attr_celeba.csv, list_eval_partition.csv,
            img_align_celeba/img_align_celeba/*.jpg
  tfds      a celeb_a version folder prepared by TensorFlow Datasets (or its
            parent holding one version); components/celeba/tfds.py reads it

The tables are validated completely, with the image directory's listing,
before any image is decoded: a malformed table is found in seconds rather than
after minutes of conversion. Every complaint is a `CelebAFormatError` naming
the file and the 1-based line number.

Two kinds of problem are told apart:
  - structural ones (a header that is not CelebA's, a row with the wrong
    number of fields, a file name that is not a file name, a duplicate row):
    the file is not what we think it is, so they are always fatal;
  - per-image ones (an attribute value other than 1 / -1, a partition other
    than 0 / 1 / 2, an image with no partition row or no attribute row, an
    image listed but missing): one image is bad, so `skip_bad` can set it
    aside as a `Rejection` and convert the rest.
"""

import csv
import dataclasses
import hashlib
import os
import re
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple, Union

from components.celeba import errors
from components.celeba import tfds
from models import features

OFFICIAL = 'official'
KAGGLE = 'kaggle'
TFDS = tfds.KIND

_TABLES = {
    OFFICIAL: ('list_attr_celeba.txt', 'list_eval_partition.txt'),
    KAGGLE: ('list_attr_celeba.csv', 'list_eval_partition.csv'),
}
_IMAGE_DIRS = {
    OFFICIAL: ('img_align_celeba',),
    KAGGLE: ('img_align_celeba/img_align_celeba',),
}

# CelebA names its images 000001.jpg ...; accept any plain JPEG file name but
# nothing with a path, spaces or a stray value such as '-1' in that column.
_IMAGE_NAME = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]*\.(?:jpg|jpeg)',
                         re.IGNORECASE)
_ATTRIBUTE_VALUE = {'1': 1, '-1': 0}
_PARTITION_VALUE = {'0': 0, '1': 1, '2': 2}


@dataclasses.dataclass(frozen=True)
class Layout:
  """Where one copy of CelebA keeps its tables and images.

  For TFDS, `root` is the version folder, `attributes` its features.json,
  `partitions` its dataset_info.json and `images_dir` the folder of shards.
  """
  kind: str          # OFFICIAL, KAGGLE or TFDS
  root: Path
  attributes: Path   # the attribute table
  partitions: Path   # the partition table
  images_dir: Path


@dataclasses.dataclass(frozen=True)
class Entry:
  """One image that passed every table check."""
  image_id: str
  split: str         # 'train', 'eval' or 'test'
  values: bytes      # 40 values 0/1 in ATTRIBUTE_NAMES order
  line: int          # its row in the attribute table


@dataclasses.dataclass(frozen=True)
class Rejection:
  """One image set aside by `skip_bad`; `reason` is `kind: details`."""
  image_id: str
  reason: str
  path: Optional[str] = None
  line: Optional[int] = None



@dataclasses.dataclass(frozen=True)
class Catalog:
  """The validated tables: what to convert and what was set aside."""
  layout: Layout
  entries: List[Entry]            # sorted by image_id
  rejections: List[Rejection]     # in file order
  unlisted_images: int            # JPEGs in images_dir that no table names


def detect_layout(celeba_dir: Union[str, Path]) -> Layout:
  """Tells which layout `celeba_dir` holds, or raises CelebAFormatError.

  When both sets of tables are present the official one wins (it is the
  original). Images are looked for in the layout's own directory first and in
  the other layout's second, since people unpack the archives either way.
  """
  root = Path(celeba_dir)
  if not root.is_dir():
    raise errors.CelebAFormatError('not a directory', root)
  found = {kind: [(root / name).is_file() for name in names]
           for kind, names in _TABLES.items()}
  kind = next((k for k in (OFFICIAL, KAGGLE) if all(found[k])), None)
  if kind is None:
    version_dir = tfds.find_version_dir(root)
    if version_dir is not None:
      return Layout(TFDS, version_dir, version_dir / tfds.FEATURES_FILE,
                    version_dir / tfds.DATASET_INFO_FILE, version_dir)
    partial = [name for k, names in _TABLES.items()
               for name, ok in zip(names, found[k]) if ok]
    hint = (f' (found only {", ".join(partial)})' if partial else '')
    raise errors.CelebAFormatError(
        'no CelebA tables found: expected list_attr_celeba.txt and '
        'list_eval_partition.txt (official layout) or list_attr_celeba.csv '
        'and list_eval_partition.csv (Kaggle layout) in this directory, or a '
        'TFDS-prepared celeb_a version folder (with '
        f'{tfds.DATASET_INFO_FILE})'
        f'{hint}. With the Google Drive folders (Anno/, Eval/, Img/), put the '
        'two tables next to img_align_celeba/.', root)
  attributes, partitions = (root / name for name in _TABLES[kind])
  other = KAGGLE if kind == OFFICIAL else OFFICIAL
  for sub in _IMAGE_DIRS[kind] + _IMAGE_DIRS[other]:
    if _has_jpeg(root / sub):
      return Layout(kind, root, attributes, partitions, root / sub)
  raise errors.CelebAFormatError(
      f'no JPEG images found in {_IMAGE_DIRS[kind][0]}/ (the {kind} layout)',
      root)


def _has_jpeg(path: Path) -> bool:
  if not path.is_dir():
    return False
  with os.scandir(path) as it:
    return any(_IMAGE_NAME.fullmatch(e.name) and e.is_file() for e in it)


def list_images(images_dir: Path) -> Set[str]:
  """Names of the JPEG files in `images_dir` (one directory read, no stat)."""
  with os.scandir(images_dir) as it:
    return {e.name for e in it if _IMAGE_NAME.fullmatch(e.name)}


def source_fingerprint(layout: Layout, image_names: Optional[Set[str]] = None
                       ) -> Dict[str, Union[str, int]]:
  """Identifies the source data cheaply: both tables' bytes and the image names.

  Image contents are not hashed (that would take as long as converting); an
  image replaced in place under the same name goes unnoticed. A TFDS folder
  is identified by tfds.fingerprint.
  """
  if layout.kind == TFDS:
    return tfds.fingerprint(layout.root)
  if image_names is None:
    image_names = list_images(layout.images_dir)
  names = hashlib.sha256('\n'.join(sorted(image_names)).encode()).hexdigest()
  parts = {
      'layout': layout.kind,
      'attributes_sha256': _sha256(layout.attributes),
      'partitions_sha256': _sha256(layout.partitions),
      'image_count': len(image_names),
      'image_names_sha256': names,
  }
  parts['fingerprint'] = hashlib.sha256(
      repr(sorted(parts.items())).encode()).hexdigest()
  return parts


def _sha256(path: Path) -> str:
  h = hashlib.sha256()
  with open(path, 'rb') as f:
    for block in iter(lambda: f.read(1 << 20), b''):
      h.update(block)
  return h.hexdigest()


def _lines(path: Path) -> Iterator[Tuple[int, str]]:
  """Yields (1-based line number, text without line ending).

  Trailing blank lines are dropped (an editor's final newline); a blank line
  anywhere else is an error. Accepts \\r\\n endings and a UTF-8 BOM.
  """
  data = path.read_bytes()
  if data.startswith(b'\xef\xbb\xbf'):
    data = data[3:]
  raw = data.split(b'\n')
  while raw and not raw[-1].strip():
    raw.pop()
  for number, line in enumerate(raw, start=1):
    try:
      text = line.decode('utf-8').rstrip('\r')
    except UnicodeDecodeError:
      raise errors.CelebAFormatError('not text: the line is not valid UTF-8',
                                     path, number) from None
    if not text.strip():
      raise errors.CelebAFormatError('empty line inside the table', path,
                                     number)
    yield number, text


def _check_names(names: Sequence[str], path: Path, line: int) -> List[int]:
  """Checks a header of attribute names; returns their ATTRIBUTE_NAMES indices.

  Any order is accepted as long as the 40 names are all there exactly once.
  """
  if names and _IMAGE_NAME.fullmatch(names[0]):
    raise errors.CelebAFormatError(
        f'expected the 40 attribute names, found a data row ({names[0]} ...): '
        'the header line is missing', path, line)
  unknown = [n for n in names if n not in features.ATTRIBUTE_NAMES]
  missing = [n for n in features.ATTRIBUTE_NAMES if n not in names]
  if unknown or missing:
    what = []
    if missing:
      what.append('missing ' + ', '.join(missing[:5]) +
                  (' ...' if len(missing) > 5 else ''))
    if unknown:
      what.append('unknown ' + ', '.join(repr(n) for n in unknown[:5]) +
                  (' ...' if len(unknown) > 5 else ''))
    raise errors.CelebAFormatError(
        f'the header must name the 40 CelebA attributes: {"; ".join(what)} '
        f'(found {len(names)} names)', path, line)
  if len(names) != len(features.ATTRIBUTE_NAMES):
    twice = sorted({n for n in names if names.count(n) > 1})
    raise errors.CelebAFormatError(
        f'attribute name(s) listed twice: {", ".join(twice)}', path, line)
  return [features.ATTRIBUTE_NAMES.index(n) for n in names]


def _csv_fields(text: str) -> List[str]:
  return [f.strip() for f in next(csv.reader([text]))]


def _check_image_name(name: str, path: Path, line: int) -> None:
  if not _IMAGE_NAME.fullmatch(name):
    raise errors.CelebAFormatError(
        f'{name!r} does not look like an image file name (expected e.g. '
        '000001.jpg in the first column)', path, line)


def read_attributes(
    layout: Layout) -> Dict[str, Tuple[int, Optional[bytes], str]]:
  """Reads the attribute table: image_id -> (line, values or None, problem).

  `values` are 40 bytes 0/1 in ATTRIBUTE_NAMES order (-1 becomes 0), or None
  with `problem` saying which value is bad. Structural errors raise.
  """
  path = layout.attributes
  csv_format = layout.kind == KAGGLE
  lines = _lines(path)
  declared: Optional[int] = None
  if not csv_format:
    number, text = next(lines, (1, ''))
    fields = text.split()
    if len(fields) != 1 or not fields[0].isdigit():
      raise errors.CelebAFormatError(
          f'line 1 must be the number of images, found {text.strip()[:60]!r}',
          path, 1)
    declared = int(fields[0])
  header = next(lines, None)
  if header is None:
    raise errors.CelebAFormatError(
        'the header with the attribute names is missing', path,
        1 if csv_format else 2)
  number, text = header
  if csv_format:
    names = _csv_fields(text)
    if not names or names[0] != 'image_id':
      raise errors.CelebAFormatError(
          f'the header must start with image_id, found {text[:40]!r}', path,
          number)
    names = names[1:]
  else:
    names = text.split()
  order = _check_names(names, path, number)
  identity_order = order == list(range(len(features.ATTRIBUTE_NAMES)))
  width = len(features.ATTRIBUTE_NAMES) + 1

  rows: Dict[str, Tuple[int, Optional[bytes], str]] = {}
  for number, text in lines:
    fields = _csv_fields(text) if csv_format else text.split()
    if len(fields) != width:
      raise errors.CelebAFormatError(
          f'expected {width} fields (a file name and {width - 1} values), '
          f'found {len(fields)}', path, number)
    image_id = fields[0]
    _check_image_name(image_id, path, number)
    if image_id in rows:
      raise errors.CelebAFormatError(
          f'{image_id} is listed twice (first on line {rows[image_id][0]})',
          path, number)
    values = [_ATTRIBUTE_VALUE.get(v) for v in fields[1:]]
    if None in values:
      col = values.index(None)
      rows[image_id] = (
          number, None,
          f'bad_attribute_value: {names[col]}={fields[col + 1]!r}, '
          'expected 1 or -1')
      continue
    if not identity_order:
      reordered = [0] * len(values)
      for value, index in zip(values, order):
        reordered[index] = value
      values = reordered
    rows[image_id] = (number, bytes(values), '')
  if declared is not None and declared != len(rows):
    raise errors.CelebAFormatError(
        f'line 1 says {declared} images but the table has {len(rows)} rows',
        path, 1)
  return rows


def read_partitions(
    layout: Layout) -> Dict[str, Tuple[int, Optional[int], str]]:
  """The partition table: image_id -> (line, partition or None, problem)."""
  path = layout.partitions
  lines = _lines(path)
  if layout.kind == KAGGLE:
    _, text = next(lines, (1, ''))
    if not text or _csv_fields(text) != ['image_id', 'partition']:
      raise errors.CelebAFormatError(
          f'the header must be image_id,partition, found {text[:40]!r}', path,
          1)
  rows: Dict[str, Tuple[int, Optional[int], str]] = {}
  for number, text in lines:
    fields = _csv_fields(text) if layout.kind == KAGGLE else text.split()
    if len(fields) != 2:
      raise errors.CelebAFormatError(
          'expected 2 fields (a file name and a partition), found '
          f'{len(fields)}',
          path, number)
    image_id, raw = fields
    _check_image_name(image_id, path, number)
    if image_id in rows:
      raise errors.CelebAFormatError(
          f'{image_id} is listed twice (first on line {rows[image_id][0]})',
          path, number)
    partition = _PARTITION_VALUE.get(raw)
    problem = '' if partition is not None else (
        f'bad_partition_value: {raw!r}, expected 0, 1 or 2')
    rows[image_id] = (number, partition, problem)
  return rows


def read_catalog(layout: Layout, skip_bad: bool = False,
                 image_names: Optional[Set[str]] = None) -> Catalog:
  """Validates both tables against each other and the image directory.

  Without `skip_bad` the first per-image problem raises (its message counts
  the others); with it, bad images become `Rejection`s. Structural problems
  always raise.
  """
  attributes = read_attributes(layout)
  partitions = read_partitions(layout)
  if image_names is None:
    image_names = list_images(layout.images_dir)
  attr_path, part_path = str(layout.attributes), str(layout.partitions)
  part_name = layout.partitions.name
  attr_name = layout.attributes.name
  images_rel = os.path.relpath(layout.images_dir, layout.root)

  entries: List[Entry] = []
  rejections: List[Rejection] = []
  for image_id, (line, values, problem) in attributes.items():
    part_line, partition, part_problem = partitions.get(image_id,
                                                        (None, None, ''))
    if problem:
      rejections.append(Rejection(image_id, problem, attr_path, line))
    elif part_line is None:
      rejections.append(Rejection(
          image_id, f'no_partition: {image_id} has no row in {part_name}',
          attr_path, line))
    elif part_problem:
      rejections.append(Rejection(image_id, part_problem, part_path, part_line))
    elif image_id not in image_names:
      rejections.append(
          Rejection(
              image_id,
              f'missing_image: {image_id} is listed but not in {images_rel}/',
              attr_path, line))
    else:
      entries.append(
          Entry(image_id, features.PARTITION_TO_SPLIT[partition], values, line))
  for image_id, (line, _, _) in partitions.items():
    if image_id not in attributes:
      rejections.append(Rejection(
          image_id, f'no_attributes: {image_id} has no row in {attr_name}',
          part_path, line))

  if rejections and not skip_bad:
    first = rejections[0]
    more = len(rejections) - 1
    suffix = (f' (and {more} more bad image{"s" if more > 1 else ""}; '
              '--skip_bad converts the rest)' if more else '')
    raise errors.CelebAFormatError(first.reason + suffix, first.path,
                                   first.line)
  entries.sort(key=lambda e: e.image_id)
  unlisted = len(image_names) - sum(1 for i in image_names
                                    if i in attributes or i in partitions)
  return Catalog(layout, entries, rejections, unlisted)
