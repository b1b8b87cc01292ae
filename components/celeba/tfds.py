"""Reads a celeb_a folder prepared by TensorFlow Datasets, without TFDS.

What tensorflow-datasets 4.x writes for celeb_a (builder versions 2.0.1 and
2.1.0), and what this module reads:

  celeb_a/2.1.0/dataset_info.json   name, version, file format, and per split
                                    the shard lengths and file name template
  celeb_a/2.1.0/features.json       the feature connectors
  celeb_a/2.1.0/celeb_a-train.tfrecord-00000-of-00016 ...  (uncompressed
                                                           TFRecords)

Each record is a `tf.train.Example` with `image` (the original JPEG bytes),
`attributes/<Name>` for the 40 attributes (TFDS declares them bool and stores
them as int64 0/1), `landmarks/<name>` and, from 2.1.0, `identity/Identity_No`.
TFDS's `validation` split is CelebA's partition 1, the pipeline's `eval`.

Why it is read this way:
  - Without tensorflow-datasets: its JSON files and TF's record reader are
    all it takes, and the pipeline's image (and every Beam worker) stays free
    of TFDS and its dependencies.
  - TFDS keeps no file name, so `image_id` is the TFDS split and the 1-based
    position in it, `train-000001` for the first record of the train split
    in shard order (the order `tfds.load(..., shuffle_files=False)` yields).
    TFDS fixes that order when it prepares the data, by hashing each example's
    key, so the id is stable for a prepared copy however often it is read.
  - The attributes travel in the records with the images, so there is no
    table to validate before the images: `features.json` and
    `dataset_info.json` are checked up front (the wrong data set or an
    incomplete folder fails in a second), each record as it is read, and the
    converter's all-or-nothing output keeps a late failure from leaving
    anything half written.
"""

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from components.celeba import errors
from models import features

KIND = 'tfds'
DATASET_INFO_FILE = 'dataset_info.json'
FEATURES_FILE = 'features.json'
IMAGE_FEATURE = 'image'
ATTRIBUTE_PREFIX = 'attributes/'
# TFDS split -> pipeline split, in CelebA's partition order.
SPLITS: Dict[str, str] = {
    'train': 'train',
    'validation': 'eval',
    'test': 'test'
}

_DEFAULT_TEMPLATE = '{DATASET}-{SPLIT}.{FILEFORMAT}-{SHARD_X_OF_Y}'
_VERSION = re.compile(r'\d+\.\d+\.\d+')
_ATTRIBUTE_DTYPES = ('bool', 'int64')


@dataclasses.dataclass(frozen=True)
class Shard:
  """One TFRecord file of a split, as dataset_info.json lists it."""
  tfds_split: str
  path: str
  length: int      # records, per dataset_info.json
  first: int       # 0-based position of its first record in the split


@dataclasses.dataclass(frozen=True)
class Segment:
  """Records [start, stop) of one shard (0-based indices within the shard)."""
  shard: Shard
  start: int
  stop: int


@dataclasses.dataclass(frozen=True)
class Source:
  """A validated TFDS folder: what the shards should hold."""
  root: Path
  name: str
  version: str
  shards: Tuple[Shard, ...]

  def split_shards(self, split: str) -> List[Shard]:
    """The shards of a pipeline split ('train', 'eval', 'test'), in order."""
    return [s for s in self.shards if SPLITS[s.tfds_split] == split]

  @property
  def total(self) -> int:
    return sum(s.length for s in self.shards)


@dataclasses.dataclass(frozen=True)
class Record:
  """One record read back; `problem` (`kind: details`) is '' if usable."""
  image_id: str
  path: str          # the shard
  number: int        # 1-based record number in the shard
  jpeg: bytes
  values: Optional[bytes]   # 40 values 0/1 in ATTRIBUTE_NAMES order
  problem: str


def image_id(tfds_split: str, position: int) -> str:
  """The id of the record at 0-based `position` of a split: 'train-000001'."""
  return f'{tfds_split}-{position + 1:06d}'


# ---------------------------------------------------------------- the folder

def find_version_dir(root: Union[str, Path]) -> Optional[Path]:
  """The TFDS version folder `root` is, or the one version folder it holds.

  Returns None when `root` is neither. TFDS's own temporary folders
  (`incomplete.*`) are not versions.
  """
  root = Path(root)
  if (root / DATASET_INFO_FILE).is_file():
    return root
  versions = _versions(root)
  if len(versions) > 1:
    raise errors.CelebAFormatError(
        'several TFDS versions here (' + ', '.join(p.name for p in versions) +
        '): pass the folder of the one to convert', root)
  if not versions and _versions(root / 'celeb_a'):
    raise errors.CelebAFormatError(
        f'a TFDS data_dir: pass its celeb_a folder ({root / "celeb_a"}) or '
        'one version folder in it', root)
  return versions[0] if versions else None


def _versions(folder: Path) -> List[Path]:
  if not folder.is_dir():
    return []
  return sorted(p for p in folder.iterdir()
                if p.is_dir() and _VERSION.fullmatch(p.name)
                and (p / DATASET_INFO_FILE).is_file())


def _read_json(path: Path) -> Dict[str, Any]:
  try:
    content = json.loads(path.read_text(encoding='utf-8'))
  except FileNotFoundError:
    raise errors.CelebAFormatError(
        f'missing: a TFDS-prepared folder has {DATASET_INFO_FILE} and '
        f'{FEATURES_FILE} beside its shards', path) from None
  except (UnicodeDecodeError, ValueError) as e:
    raise errors.CelebAFormatError(f'not valid JSON ({e})', path) from None
  if not isinstance(content, dict):
    raise errors.CelebAFormatError('expected a JSON object', path)
  return content


def _features(spec: Dict[str, Any]) -> Dict[str, Any]:
  """The sub-features of a FeaturesDict in features.json, or {}."""
  found = spec.get('featuresDict', {}).get('features', {})
  return found if isinstance(found, dict) else {}


def _check_features(path: Path, dataset: str) -> None:
  """Checks features.json declares the 40 attributes and a JPEG `image`."""
  declared = _features(_read_json(path))
  listed = ', '.join(sorted(declared)) or 'none'
  attributes = _features(declared.get('attributes', {}))
  if not attributes:
    raise errors.CelebAFormatError(
        f'{dataset} has no CelebA attributes (its features: {listed}); '
        'expected TFDS\'s celeb_a, with attributes/<Name> for the 40 '
        'attributes', path)
  missing = [n for n in features.ATTRIBUTE_NAMES if n not in attributes]
  if missing:
    raise errors.CelebAFormatError(
        f'{dataset} lacks the attributes ' + ', '.join(missing[:5]) +
        (' ...' if len(missing) > 5 else '') +
        f' ({len(features.ATTRIBUTE_NAMES) - len(missing)} of the 40 '
        'present)', path)
  for name in features.ATTRIBUTE_NAMES:
    tensor = attributes[name].get('tensor', {})
    shape = tensor.get('shape', {}).get('dimensions', [])
    if tensor.get('dtype') not in _ATTRIBUTE_DTYPES or shape:
      raise errors.CelebAFormatError(
          f'attributes/{name} is declared as {tensor.get("dtype")} of shape '
          f'{shape}; expected a bool or int64 scalar', path)
  image = declared.get(IMAGE_FEATURE, {})
  if not str(image.get('pythonClassName', '')).endswith('.Image'):
    raise errors.CelebAFormatError(
        f'{dataset} has no image feature (its features: {listed})', path)
  encoding = image.get('image', {}).get('encodingFormat')
  if encoding not in (None, 'jpeg'):
    raise errors.CelebAFormatError(
        f'{dataset} stores its images as {encoding}; the pipeline takes '
        'CelebA\'s original JPEG bytes', path)


def _shard_name(template: str, dataset: str, split: str, file_format: str,
                index: int, count: int) -> str:
  digits = max(5, len(str(count)))
  values = {
      'DATASET': dataset,
      'SPLIT': split,
      'FILEFORMAT': file_format,
      'SHARD_INDEX': f'{index:0{digits}d}',
      'NUM_SHARDS': f'{count:0{digits}d}'
  }
  values['SHARD_X_OF_Y'] = f'{values["SHARD_INDEX"]}-of-{values["NUM_SHARDS"]}'
  return template.format(**values)


def read_source(root: Union[str, Path]) -> Source:
  """Validates a TFDS version folder's JSON files and finds its shards.

  Raises:
    CelebAFormatError: another data set or version without the attributes,
      images that are not JPEG, a file format other than TFRecord, a split
      missing or unknown, or a shard file missing.
  """
  root = Path(root)
  info_path = root / DATASET_INFO_FILE
  info = _read_json(info_path)
  name, version = str(info.get('name', '?')), str(info.get('version', '?'))
  dataset = f'the TFDS data set {name} {version}'
  _check_features(root / FEATURES_FILE, dataset)
  file_format = info.get('fileFormat') or 'tfrecord'
  if file_format != 'tfrecord':
    raise errors.CelebAFormatError(
        f'{dataset} is stored as {file_format}; prepare it as TFRecords '
        '(TFDS\'s default file_format)', info_path)

  splits = {
      s.get('name'): s for s in info.get('splits', []) if isinstance(s, dict)
  }
  unknown = sorted(str(s) for s in splits if s not in SPLITS)
  missing = [s for s in SPLITS if s not in splits]
  if unknown or missing:
    raise errors.CelebAFormatError(
        f'{dataset} has the splits '
        f'{", ".join(sorted(map(str, splits))) or "none"}; '
        'celeb_a has train, validation and test', info_path)
  shards: List[Shard] = []
  for tfds_split in SPLITS:
    entry = splits[tfds_split]
    try:
      lengths = [int(n) for n in entry['shardLengths']]
    except (KeyError, TypeError, ValueError):
      raise errors.CelebAFormatError(
          f'split {tfds_split} has no valid shardLengths (a folder prepared by '
          'tensorflow-datasets 4.x lists them)', info_path) from None
    template = entry.get('filepathTemplate') or _DEFAULT_TEMPLATE
    first = 0
    for index, length in enumerate(lengths):
      try:
        file_name = _shard_name(template, name, tfds_split, file_format, index,
                                len(lengths))
      except (KeyError, IndexError, ValueError):
        raise errors.CelebAFormatError(
            f'split {tfds_split}: unknown file name template {template!r}',
            info_path) from None
      path = root / file_name
      if not path.is_file():
        raise errors.CelebAFormatError(
            f'missing shard: {DATASET_INFO_FILE} lists {len(lengths)} shards '
            f'for split {tfds_split}', path)
      shards.append(Shard(tfds_split, str(path), length, first))
      first += length
  return Source(root, name, version, tuple(shards))


def fingerprint(root: Union[str, Path]) -> Dict[str, Union[str, int]]:
  """Identifies the folder cheaply: the JSON files' bytes, shard names, sizes.

  Shard contents are not hashed (that would take as long as converting).
  """
  root = Path(root)
  source = read_source(root)
  shards = '\n'.join(f'{Path(s.path).name} {Path(s.path).stat().st_size}'
                     for s in source.shards)
  parts: Dict[str, Union[str, int]] = {
      'layout': KIND,
      'dataset_info_sha256': hashlib.sha256(
          (root / DATASET_INFO_FILE).read_bytes()).hexdigest(),
      'features_sha256': hashlib.sha256(
          (root / FEATURES_FILE).read_bytes()).hexdigest(),
      'image_count': source.total,
      'shards_sha256': hashlib.sha256(shards.encode()).hexdigest(),
  }
  parts['fingerprint'] = hashlib.sha256(
      repr(sorted(parts.items())).encode()).hexdigest()
  return parts


def plan_split(source: Source, split: str,
               num_shards: Optional[int]) -> List[List[Segment]]:
  """Cuts a split into output shards, each a run of consecutive records.

  Without `num_shards` each TFDS shard becomes one output shard, so no
  record is read twice; otherwise the split is cut into `num_shards` runs
  of equal length (a run starting inside a TFDS shard skips to its start).
  A split without records gets one empty output shard.
  """
  shards = [s for s in source.split_shards(split) if s.length]
  if num_shards is None:
    return [[Segment(s, 0, s.length)] for s in shards] or [[]]
  total = sum(s.length for s in shards)
  count = max(1, min(num_shards, total))
  plan = []
  for k in range(count):
    low, high = k * total // count, (k + 1) * total // count
    plan.append([
        Segment(s,
                max(low, s.first) - s.first,
                min(high, s.first + s.length) - s.first)
        for s in shards
        if s.first < high and s.first + s.length > low
    ])
  return plan


# ---------------------------------------------------------------- the records

def _values(example, record_id: str) -> Tuple[Optional[bytes], str]:
  """The 40 attributes as bytes 0/1, or None and the problem."""
  feature = example.features.feature
  values = []
  for name in features.ATTRIBUTE_NAMES:
    key = ATTRIBUTE_PREFIX + name
    if key not in feature:
      return None, f'missing_attribute: {record_id} has no {key}'
    found = list(feature[key].int64_list.value)
    if len(found) != 1 or found[0] not in (0, 1):
      kind = feature[key].WhichOneof('kind') or 'empty'
      raw = found if found else f'a {kind} feature'
      return None, f'bad_attribute_value: {key}={raw}, expected 0 or 1'
    values.append(found[0])
  return bytes(values), ''


def _image(example, record_id: str) -> Tuple[bytes, str]:
  found = list(example.features.feature[IMAGE_FEATURE].bytes_list.value) if (
      IMAGE_FEATURE in example.features.feature) else []
  if len(found) != 1:
    return b'', f'missing_image: {record_id} has no {IMAGE_FEATURE} bytes'
  return found[0], ''


def read_records(segments: Sequence[Segment]) -> Iterator[Record]:
  """Reads the records of `segments` in order, checking each.

  Per-record problems (no image, an attribute missing or not 0/1) come back
  in `Record.problem`, for the caller to reject or raise. What makes the
  rest of a shard untrustworthy raises.

  Raises:
    CelebAFormatError: a truncated or corrupt shard, a record that is not a
      tf.train.Example, or a shard holding more or fewer records than
      dataset_info.json lists.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  # pylint: disable=g-import-not-at-top
  from google.protobuf import message as proto_message
  for segment in segments:
    shard = segment.shard
    # Reading one past the end of a shard tells whether it holds more
    # records than dataset_info.json says.
    stop = segment.stop + (1 if segment.stop == shard.length else 0)
    records = tf.data.TFRecordDataset(shard.path).skip(segment.start).take(
        stop - segment.start)
    index = segment.start
    try:
      for raw in records:
        if index >= shard.length:
          raise errors.CelebAFormatError(
              f'the shard holds more records than the {shard.length} '
              f'{DATASET_INFO_FILE} lists for it', shard.path, index + 1)
        record_id = image_id(shard.tfds_split, shard.first + index)
        try:
          example = tf.train.Example.FromString(raw.numpy())
        except proto_message.DecodeError:
          raise errors.CelebAFormatError(
              f'record {index + 1} ({record_id}) is not a tf.train.Example',
              shard.path, index + 1) from None
        jpeg, problem = _image(example, record_id)
        values, value_problem = _values(example, record_id)
        yield Record(record_id, shard.path, index + 1, jpeg, values,
                     problem or value_problem)
        index += 1
    except tf.errors.DataLossError as e:
      raise errors.CelebAFormatError(
          f'truncated or corrupt shard: record {index + 1} cannot be read '
          f'({errors.tensorflow_message(e)})', shard.path, index + 1) from None
    if index < segment.stop:
      raise errors.CelebAFormatError(
          f'truncated shard: it ends after {index} records, '
          f'{DATASET_INFO_FILE} lists {shard.length}', shard.path, index + 1)
