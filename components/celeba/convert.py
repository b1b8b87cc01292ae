"""Converts CelebA (official, Kaggle or TFDS layout) to TFRecords per split.

Output, the input of the pipeline's ImportExampleGen:

  OUT/train/data-00000-of-00017.tfrecord.gz ...   partition 0
  OUT/eval/...                                    partition 1
  OUT/test/...                                    partition 2
  OUT/rejected.csv       image_id,reason (only with skip_bad)
  OUT/conversion.json    written last: counts, layout, source fingerprint

Each record is a `tf.train.Example` with `image` (the original JPEG bytes,
unchanged), `image_id` (the file name; for a TFDS folder, which keeps none, the
split and position, see tfds.py) and the 40 attributes as int64 0/1 under
their CelebA names (-1 becomes 0); see models/features.py.

Why it is built this way:
  - All-or-nothing. Tables are validated before any image is read (a TFDS
    folder has none: its records are checked as they are read); shards are
    written into OUT/.tmp-<pid>/ and moved into place only when every image
    has passed, so a failed run leaves no TFRecords behind and does not touch
    a previous good conversion. conversion.json is removed before the swap
    and written after it, so it exists only next to a complete output, and
    `is_converted` can trust it.
  - Every image is decoded once with `tf.io.decode_jpeg(channels=3)`, the
    decoder the model's preprocessing runs, rather than PIL: the two
    libjpeg builds do not agree on every damaged file, and the question is
    whether training will decode it, not whether some decoder can. It costs
    about 0.3 ms per CelebA image. TF's op also decodes PNG and GIF, so the
    JPEG start-of-image marker is checked too.
  - One writer process per group of shards (spawned, so TF is never forked)
    uses every core: decoding dominates, and shards need no coordination.
    Small inputs stay in one process, where TF's start-up would cost more
    than it saves.
"""

import csv
import dataclasses
import json
import logging
import math
import multiprocessing
import os
import shutil
import sys
import time
from pathlib import Path
from typing import (Any, Callable, Dict, Iterator, List, Optional, Sequence,
                    Tuple, Union)

import numpy as np

from components.celeba import errors
from components.celeba import layout as layout_lib
from components.celeba import tfds
from models import features

# Bumped when the records or their order change; old markers then mismatch.
CONVERSION_FORMAT = 2
MARKER_FILE = 'conversion.json'
REJECTED_FILE = 'rejected.csv'
SHARD_SUFFIX = '.tfrecord.gz'
# Shards of about this size: large enough that a file costs little to open,
# small enough that readers and workers split a split many ways.
SHARD_BYTES = 128 << 20
_SIZE_SAMPLE = 256   # images whose sizes estimate a split's bytes
_ORDER_SEED = 0      # the examples' order within a split
# Below this many images per extra process, a second process does not pay
# for TensorFlow's start-up.
MIN_IMAGES_PER_PROCESS = 5_000
_PROGRESS_EVERY = 256  # images between updates of the progress counter

_JPEG_SOI = b'\xff\xd8\xff'
_log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ConversionResult:
  """What `convert` wrote."""
  output_dir: str
  layout: str
  counts: Dict[str, int]               # examples per split
  files: Dict[str, List[str]]          # shard file names per split
  rejections: List[layout_lib.Rejection]          # sorted by image_id
  unlisted_images: int                 # JPEGs no table mentions (ignored)
  processes: int
  seconds: float

  @property
  def total(self) -> int:
    return sum(self.counts.values())


@dataclasses.dataclass(frozen=True)
class _ShardTask:
  split: str
  path: str                                 # the shard file to write
  images_dir: str
  items: List[Tuple[str, bytes]]            # (image_id, 40 values 0/1)
  skip_bad: bool
  records: Tuple[tfds.Segment, ...] = ()    # instead of items: TFDS records

  @property
  def size(self) -> int:
    return len(self.items) + sum(s.stop - s.start for s in self.records)


@dataclasses.dataclass(frozen=True)
class _ShardResult:
  split: str
  name: str
  count: int
  rejections: List[layout_lib.Rejection]


# ---------------------------------------------------------------- records

_tf = None
_INT_FEATURES: Optional[Tuple[Any, Any]] = None


def _tensorflow():
  """Imports TF on first use: tables are checked before paying for it."""
  global _tf, _INT_FEATURES
  if _tf is None:
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    _tf = tf
    _INT_FEATURES = tuple(
        tf.train.Feature(int64_list=tf.train.Int64List(value=[v]))
        for v in (0, 1))
  return _tf


def make_example(image_id: str, jpeg: bytes, values: Sequence[int]) -> bytes:
  """Serializes one tf.train.Example; `values` are the 40 attributes as 0/1."""
  tf = _tensorflow()
  feature = {
      features.IMAGE_KEY:
          tf.train.Feature(bytes_list=tf.train.BytesList(value=[jpeg])),
      features.IMAGE_ID_KEY:
          tf.train.Feature(bytes_list=tf.train.BytesList(
              value=[image_id.encode('utf-8')])),
  }
  for name, value in zip(features.ATTRIBUTE_NAMES, values):
    feature[name] = _INT_FEATURES[value]
  return tf.train.Example(
      features=tf.train.Features(feature=feature)).SerializeToString()


def check_jpeg(data: bytes) -> Optional[str]:
  """Returns why `data` is not a usable JPEG (`kind: details`), or None."""
  if not data.startswith(_JPEG_SOI):
    return ('not_jpeg: the file does not start with a JPEG marker'
            if data else 'undecodable: the file is empty')
  tf = _tensorflow()
  try:
    tf.io.decode_jpeg(data, channels=3)
  except tf.errors.InvalidArgumentError as e:
    return f'undecodable: {errors.tensorflow_message(e)}'
  return None


# ---------------------------------------------------------------- workers

_COUNTER = None  # the multiprocessing.Value a worker adds its progress to


def _init_worker(counter) -> None:
  global _COUNTER
  _COUNTER = counter
  _tensorflow()


def _add_progress(n: int) -> None:
  with _COUNTER.get_lock():
    _COUNTER.value += n


def _inputs(task: _ShardTask) -> Iterator[Tuple[str, str, Optional[int], bytes,
                                                 Optional[bytes], str]]:
  """(image_id, path, line, JPEG bytes, values, problem) of a task's images.

  `path` and `line` are where a problem is reported: the image file, or the
  TFDS shard and record number.
  """
  for r in tfds.read_records(task.records):
    yield r.image_id, r.path, r.number, r.jpeg, r.values, r.problem
  for image_id, values in task.items:
    path = os.path.join(task.images_dir, image_id)
    try:
      with open(path, 'rb') as f:
        data, problem = f.read(), ''
    except FileNotFoundError:
      data, problem = b'', (f'missing_image: {image_id} disappeared during '
                            'the conversion')
    yield image_id, path, None, data, values, problem


def _write_shard(task: _ShardTask,
                 tick: Optional[Callable[[int], None]] = None) -> _ShardResult:
  """Writes one shard file.

  Raises:
    CelebAFormatError: on a bad image, unless the task skips bad images.
  """
  tf = _tensorflow()
  tick = tick or (_add_progress if _COUNTER is not None else None)
  options = tf.io.TFRecordOptions(compression_type='GZIP')
  rejections: List[layout_lib.Rejection] = []
  count = pending = 0
  with tf.io.TFRecordWriter(task.path, options) as writer:
    for image_id, path, line, data, values, problem in _inputs(task):
      problem = problem or check_jpeg(data)
      if problem:
        if not task.skip_bad:
          raise errors.CelebAFormatError(problem, path, line)
        rejections.append(layout_lib.Rejection(image_id, problem, path, line))
      else:
        writer.write(make_example(image_id, data, values))
        count += 1
      pending += 1
      if tick and pending >= _PROGRESS_EVERY:
        tick(pending)
        pending = 0
  if tick and pending:
    tick(pending)
  return _ShardResult(task.split, os.path.basename(task.path), count,
                      rejections)


# ---------------------------------------------------------------- progress

class _Progress:
  """A tqdm bar on a terminal; otherwise a log line per 10% done."""

  def __init__(self, total: int, enabled: bool):
    self.total, self.enabled, self.done = total, enabled, 0
    # (time, done) of the first update
    self.first: Optional[Tuple[float, int]] = None
    self.next_report = 0.1
    self.bar = None
    if enabled and sys.stderr.isatty():
      from tqdm import tqdm  # pylint: disable=g-import-not-at-top
      self.bar = tqdm(total=total, unit='img', file=sys.stderr, smoothing=0.05)

  def set(self, done: int) -> None:
    if not self.enabled or done <= self.done:
      return
    now = time.monotonic()
    if self.first is None:
      self.first = (now, done)   # rates leave out TF's start-up
    if self.bar is not None:
      self.bar.update(done - self.done)
    elif done >= self.next_report * self.total:
      seconds, base = now - self.first[0], self.first[1]
      rate = f', {(done - base) / seconds:,.0f} img/s' if seconds > 0.5 else ''
      _log.info('converted %s of %s images (%.0f%%)%s', f'{done:,}',
                f'{self.total:,}', 100 * done / self.total, rate)
      self.next_report = math.floor(done / self.total * 10 + 1) / 10
    self.done = done

  def add(self, n: int) -> None:
    self.set(self.done + n)

  def close(self) -> None:
    if self.bar is not None:
      self.bar.close()


# ---------------------------------------------------------------- planning

def _shard_file(tmp: Path, split: str, k: int, shards: int) -> str:
  return str(tmp / split / f'data-{k:05d}-of-{shards:05d}{SHARD_SUFFIX}')


def _default_shards(images_dir: str, image_ids: Sequence[str]) -> int:
  """Shards of about SHARD_BYTES, from the sizes of a sample of the images."""
  sample = image_ids[::max(1, len(image_ids) // _SIZE_SAMPLE)]
  sizes = [os.path.getsize(os.path.join(images_dir, i)) for i in sample
           if os.path.exists(os.path.join(images_dir, i))]
  mean = sum(sizes) / len(sizes) if sizes else 0
  return max(1, round(mean * len(image_ids) / SHARD_BYTES))


def _plan_tasks(catalog: layout_lib.Catalog, tmp: Path,
                num_shards: Optional[int], skip_bad: bool) -> List[_ShardTask]:
  """Cuts each split, in a seeded random order, into shards (deterministic).

  Nothing downstream reshuffles the examples (ImportExampleGen copies these
  shards as they are, components/import_examples.py), so the order is decided
  here: CelebA's file order follows its partitions and need not be random
  within them, and a trainer that shuffles files and a buffer needs shards
  that are each a fair sample of the split.
  """
  tasks = []
  for k_split, split in enumerate(features.SPLITS):
    items = [(e.image_id, e.values) for e in catalog.entries if e.split == split
            ]
    order = np.random.default_rng([_ORDER_SEED, k_split]).permutation(
        len(items))
    items = [items[i] for i in order]
    shards = num_shards or _default_shards(str(catalog.layout.images_dir),
                                           [i for i, _ in items])
    shards = max(1, min(shards, len(items)))
    (tmp / split).mkdir(parents=True)
    for k in range(shards):
      chunk = items[k * len(items) // shards:(k + 1) * len(items) // shards]
      tasks.append(_ShardTask(split, _shard_file(tmp, split, k, shards),
                              str(catalog.layout.images_dir), chunk, skip_bad))
  return tasks


def _plan_tfds_tasks(source: tfds.Source, tmp: Path, num_shards: Optional[int],
                     skip_bad: bool) -> List[_ShardTask]:
  """One output shard per TFDS shard, or `num_shards` runs of a split."""
  tasks = []
  for split in features.SPLITS:
    plan = tfds.plan_split(source, split, num_shards)
    (tmp / split).mkdir(parents=True)
    for k, segments in enumerate(plan):
      tasks.append(_ShardTask(split, _shard_file(tmp, split, k, len(plan)),
                              str(source.root), [], skip_bad, tuple(segments)))
  return tasks


def _default_workers() -> int:
  try:
    return len(os.sched_getaffinity(0))
  except AttributeError:
    return os.cpu_count() or 1


def _run_tasks(tasks: List[_ShardTask], processes: int,
               progress: _Progress) -> List[_ShardResult]:
  if processes <= 1:
    _tensorflow()
    return [_write_shard(t, progress.add) for t in tasks]
  # Spawn, not fork: the caller may already have TF (and its threads) loaded.
  ctx = multiprocessing.get_context('spawn')
  counter = ctx.Value('q', 0)
  # Largest first, so no process is left alone with a big shard at the end.
  ordered = sorted(tasks, key=lambda t: -t.size)
  results = []
  with ctx.Pool(processes, initializer=_init_worker,
                initargs=(counter,)) as pool:
    pending = pool.imap_unordered(_write_shard, ordered)
    while len(results) < len(ordered):
      try:
        results.append(pending.next(timeout=0.5))
      except multiprocessing.TimeoutError:
        pass
      progress.set(counter.value)
  return results


# ---------------------------------------------------------------- output dir

def _pid_alive(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True
  return True


def _remove_stale_temporaries(out: Path) -> None:
  """Removes .tmp-<pid> / .old-<pid> folders of converters that were killed."""
  for path in list(out.glob('.tmp-*')) + list(out.glob('.old-*')):
    pid = path.name.split('-', 1)[1]
    if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
      shutil.rmtree(path, ignore_errors=True)


def _check_replaceable(out: Path) -> None:
  """Refuses to replace split folders holding anything but our shards."""
  for split in features.SPLITS:
    folder = out / split
    if not folder.exists():
      continue
    strangers = ([folder.name] if not folder.is_dir() else [
        p.name for p in folder.iterdir() if not p.name.endswith(SHARD_SUFFIX)
    ])
    if strangers:
      raise FileExistsError(
          f'{folder}: will not replace it, it holds files the converter did '
          f'not write ({", ".join(sorted(strangers)[:3])}); choose another '
          '--output_dir or move them away')


def _write_rejected(path: Path, rejections: Sequence[layout_lib.Rejection],
                    root: Path) -> None:
  with open(path, 'w', newline='', encoding='utf-8') as f:
    writer = csv.writer(f)
    writer.writerow(['image_id', 'reason'])
    for r in rejections:
      where = ''
      if r.line is not None and r.path is not None:
        where = f' ({os.path.relpath(r.path, root)}:{r.line})'
      writer.writerow([r.image_id, r.reason + where])


def _write_json(path: Path, content: Dict[str, Any]) -> None:
  part = path.with_name(path.name + '.part')
  part.write_text(json.dumps(content, indent=1, sort_keys=True) + '\n')
  os.replace(part, path)


def _install(tmp: Path, out: Path, skip_bad: bool, marker: Dict[str,
                                                                Any]) -> None:
  """Moves the finished splits into place; the marker goes last.

  The old marker is removed first, so a crash mid-way leaves no marker next
  to a mix of old and new splits; a failure that Python sees is undone.
  """
  marker_path = out / MARKER_FILE
  previous_marker = marker_path.read_bytes() if marker_path.exists() else None
  marker_path.unlink(missing_ok=True)
  old = out / f'.old-{os.getpid()}'
  moved: List[str] = []
  try:
    for split in features.SPLITS:
      if (out / split).exists():
        old.mkdir(exist_ok=True)
        (out / split).rename(old / split)
      (tmp / split).rename(out / split)
      moved.append(split)
  except BaseException:
    # Undo: new splits back to tmp (removed by the caller), old ones back in
    # place.
    for split in moved:
      (out / split).rename(tmp / split)
    for split in features.SPLITS:
      if (old / split).exists():
        (old / split).rename(out / split)
    shutil.rmtree(old, ignore_errors=True)
    if previous_marker is not None:
      marker_path.write_bytes(previous_marker)
    raise
  if skip_bad:
    os.replace(tmp / REJECTED_FILE, out / REJECTED_FILE)
  else:
    (out / REJECTED_FILE).unlink(missing_ok=True)
  _write_json(out / MARKER_FILE, marker)
  shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------- public API

def convert(celeba_dir: Union[str, Path], output_dir: Union[str, Path], *,
            skip_bad: bool = False, num_shards: Optional[int] = None,
            workers: Optional[int] = None, progress: bool = False
            ) -> ConversionResult:
  """Converts the CelebA copy in `celeba_dir` into TFRecords under `output_dir`.

  Args:
    celeba_dir: official, Kaggle or TFDS layout (detected).
    output_dir: created if needed. Its train/, eval/, test/ folders, if any,
      are replaced only after the new ones are complete.
    skip_bad: set bad images aside (see layout.py for which problems count as
      per-image) and list them in rejected.csv instead of failing.
    num_shards: files per split; default one per SHARD_BYTES of images.
    workers: writer processes; default the usable cores, but one process for
      inputs under MIN_IMAGES_PER_PROCESS images per extra process.
    progress: report progress on stderr.

  Raises:
    CelebAFormatError: a bad table or TFDS folder, or (without skip_bad) a bad
      image; nothing under `output_dir` has changed.
    FileExistsError: a split folder in `output_dir` holds foreign files.
  """
  started = time.monotonic()
  if num_shards is not None and num_shards < 1:
    raise ValueError(f'num_shards must be at least 1, got {num_shards}')
  layout = layout_lib.detect_layout(celeba_dir)
  tfds_source = None
  if layout.kind == layout_lib.TFDS:
    tfds_source = tfds.read_source(layout.root)
    fingerprint = layout_lib.source_fingerprint(layout)
    catalog = layout_lib.Catalog(layout, entries=[], rejections=[],
                                 unlisted_images=0)
    total = tfds_source.total
  else:
    image_names = layout_lib.list_images(layout.images_dir)
    fingerprint = layout_lib.source_fingerprint(layout, image_names)
    catalog = layout_lib.read_catalog(layout, skip_bad=skip_bad,
                                      image_names=image_names)
    total = len(catalog.entries)
  if not total:
    raise errors.CelebAFormatError('no images left to convert',
                                   layout.attributes)

  out = Path(output_dir)
  created_out = not out.exists()
  out.mkdir(parents=True, exist_ok=True)
  tmp = out / f'.tmp-{os.getpid()}'
  try:
    _remove_stale_temporaries(out)
    _check_replaceable(out)
    if tmp.exists():
      shutil.rmtree(tmp)
    if tfds_source is not None:
      tasks = _plan_tfds_tasks(tfds_source, tmp, num_shards, skip_bad)
    else:
      tasks = _plan_tasks(catalog, tmp, num_shards, skip_bad)
    if workers is None:
      workers = min(_default_workers(), max(1, total // MIN_IMAGES_PER_PROCESS))
    processes = max(1, min(workers, len(tasks)))

    bar = _Progress(total, progress)
    try:
      results = _run_tasks(tasks, processes, bar)
    finally:
      bar.close()

    counts = {split: 0 for split in features.SPLITS}
    files: Dict[str, List[str]] = {split: [] for split in features.SPLITS}
    rejections = list(catalog.rejections)
    for r in results:
      counts[r.split] += r.count
      files[r.split].append(r.name)
      rejections.extend(r.rejections)
    rejections.sort(key=lambda r: r.image_id)
    for split in features.SPLITS:
      files[split].sort()
    if not sum(counts.values()):
      raise errors.CelebAFormatError(
          'no images left to convert: every image was rejected',
          layout.images_dir)
    for split in features.SPLITS:
      if not counts[split]:
        _log.warning(
            'split %s is empty (no image of partition %s); its folder '
            'holds one empty file', split, features.SPLITS.index(split))
    if skip_bad:
      _write_rejected(tmp / REJECTED_FILE, rejections, layout.root)

    marker = {
        'format': CONVERSION_FORMAT,
        'layout': layout.kind,
        'source_dir': str(layout.root.resolve()),
        'source': fingerprint,
        'counts': counts,
        'total': sum(counts.values()),
        'rejected': len(rejections),
        'unlisted_images': catalog.unlisted_images,
        'skip_bad': skip_bad,
        'files': files,
        'features': {
            'image': features.IMAGE_KEY,
            'image_id': features.IMAGE_ID_KEY,
            'attributes': list(features.ATTRIBUTE_NAMES)
        },
        'created': time.strftime('%Y-%m-%dT%H:%M:%S%z'),
        'seconds': round(time.monotonic() - started, 1),
    }
    _install(tmp, out, skip_bad, marker)
  except BaseException:
    shutil.rmtree(tmp, ignore_errors=True)
    if created_out and out.is_dir() and not any(out.iterdir()):
      out.rmdir()
    raise
  shutil.rmtree(tmp, ignore_errors=True)
  return ConversionResult(
      output_dir=str(out), layout=layout.kind, counts=counts, files=files,
      rejections=rejections, unlisted_images=catalog.unlisted_images,
      processes=processes, seconds=time.monotonic() - started)


def read_marker(output_dir: Union[str, Path]) -> Optional[Dict[str, Any]]:
  """The conversion.json of `output_dir`, or None if absent or unreadable."""
  try:
    return json.loads((Path(output_dir) / MARKER_FILE).read_text())
  except (OSError, ValueError):
    return None


def is_converted(celeba_dir: Union[str, Path], output_dir: Union[str,
                                                                 Path]) -> bool:
  """Whether `output_dir` holds a complete conversion of `celeba_dir` as it is.

  Checks the marker's format version, the source fingerprint (both tables'
  bytes and the image file names; see layout.source_fingerprint) and that
  every shard the marker lists exists. A source that cannot be read gives
  False; `convert` then reports what is wrong with it.
  """
  marker = read_marker(output_dir)
  if not marker or marker.get('format') != CONVERSION_FORMAT:
    return False
  try:
    current = layout_lib.source_fingerprint(
        layout_lib.detect_layout(celeba_dir))
  except (errors.CelebAFormatError, OSError):
    return False
  if marker.get('source', {}).get('fingerprint') != current['fingerprint']:
    return False
  out = Path(output_dir)
  return all((out / split / name).is_file()
             for split, names in marker.get('files', {}).items()
             for name in names)
