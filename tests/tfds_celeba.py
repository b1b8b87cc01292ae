"""TFDS-prepared celeb_a folders, written by tensorflow-datasets itself.

`prepare` runs TFDS's own celeb_a builder (its features, example serializer,
shuffling, sharding and dataset_info.json / features.json writers) on a set
in CelebA's official layout, such as `synth.synthesize` writes. Only the
download is replaced: the builder is handed the local files instead of
fetching CelebA. The result is byte for byte what `tfds.load('celeb_a')`
would have prepared from those files.

The damage helpers rewrite shards record by record with TF's TFRecord
writer, the writer TFDS itself uses, so only the damaged part differs.
"""

import os
import shutil
import struct
import zipfile
from pathlib import Path
from typing import Callable, Dict, List, Optional, Union
from unittest import mock

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from tensorflow_datasets import testing as tfds_testing
from tensorflow_datasets.datasets.celeb_a import celeb_a_dataset_builder

from components.celeba import synth

PathLike = Union[str, Path]
LANDMARKS_FILE = 'list_landmarks_align_celeba.txt'

tfds.disable_progress_bar()


def _write_landmarks(celeba_dir: Path) -> Path:
  """Writes list_landmarks_align_celeba.txt, which the builder also reads."""
  names = sorted(os.listdir(celeba_dir / synth.IMAGES_DIR))
  lines = [str(len(names)), ' '.join(celeb_a_dataset_builder.LANDMARK_HEADINGS)]
  for i, name in enumerate(names):
    lines.append(name + ' ' +
                 ' '.join(str(60 + (i + k) % 40) for k in range(10)))
  path = celeba_dir / LANDMARKS_FILE
  path.write_text('\n'.join(lines) + '\n')
  return path


def _prepare(builder: tfds.core.DatasetBuilder, downloads: Optional[Dict[str,
                                                                         str]],
             num_shards: Optional[int]) -> Path:
  config = tfds.download.DownloadConfig(try_download_gcs=False,
                                        num_shards=num_shards)
  if downloads is None:
    builder.download_and_prepare(download_config=config)
  else:
    with mock.patch.object(tfds.download.DownloadManager, 'download',
                           lambda self, urls: downloads):
      builder.download_and_prepare(download_config=config)
  return Path(builder.data_dir)


def prepare(celeba_dir: PathLike, data_dir: PathLike,
            num_shards: Optional[int] = None) -> Path:
  """Prepares celeb_a from an official-layout set; returns the version folder.

  num_shards: shards per split (TFDS picks by size otherwise: one, here).
  """
  celeba_dir, data_dir = Path(celeba_dir), Path(data_dir)
  data_dir.mkdir(parents=True, exist_ok=True)
  archive = data_dir / 'img_align_celeba.zip'
  with zipfile.ZipFile(archive, 'w') as z:
    for name in sorted(os.listdir(celeba_dir / synth.IMAGES_DIR)):
      z.write(celeba_dir / synth.IMAGES_DIR / name,
              f'{synth.IMAGES_DIR}/{name}')
  downloads = {
      'img_align_celeba': str(archive),
      'list_eval_partition': str(celeba_dir / synth.PARTITION_FILE),
      'list_attr_celeba': str(celeba_dir / synth.ATTR_FILE),
      'landmarks_celeba': str(_write_landmarks(celeba_dir)),
      'identity_celeba': str(celeba_dir / synth.IDENTITY_FILE),
  }
  builder = celeb_a_dataset_builder.Builder(data_dir=str(data_dir))
  return _prepare(builder, downloads, num_shards)


class CelebAWithoutAttributes(tfds.core.GeneratorBasedBuilder,
                              skip_registration=True):
  """A celeb_a of another version: images and landmarks, no attributes."""

  name = 'celeb_a'
  VERSION = tfds.core.Version('0.9.0')

  def _info(self) -> tfds.core.DatasetInfo:
    return self.dataset_info_from_configs(
        features=tfds.features.FeaturesDict({
            'image': tfds.features.Image(shape=(218, 178, 3),
                                         encoding_format='jpeg'),
            'landmarks': {name: np.int64 for name in
                          celeb_a_dataset_builder.LANDMARK_HEADINGS},
        }))

  def _split_generators(self, dl_manager):
    return {'train': self._generate_examples(0), 'validation':
            self._generate_examples(1), 'test': self._generate_examples(2)}

  def _generate_examples(self, partition: int):
    jpeg = tf.io.encode_jpeg(tf.zeros([218, 178, 3], tf.uint8)).numpy()
    for i in range(3):
      yield f'{partition}-{i}', {
          'image': jpeg,
          'landmarks': {name: i for name in
                        celeb_a_dataset_builder.LANDMARK_HEADINGS}}


def prepare_other(kind: str, data_dir: PathLike) -> Path:
  """A TFDS folder that is not usable celeb_a; returns its version folder.

  kind: 'dummy_mnist' (another data set, TFDS's own test builder) or
  'celeb_a_0.9.0' (celeb_a without the attributes).
  """
  if kind == 'dummy_mnist':
    builder = tfds_testing.DummyMnist(data_dir=str(data_dir))
  elif kind == 'celeb_a_0.9.0':
    builder = CelebAWithoutAttributes(data_dir=str(data_dir))
  else:
    raise ValueError(f'unknown kind {kind!r}')
  return _prepare(builder, None, None)


def shards(version_dir: PathLike, split: str) -> List[Path]:
  """The TFRecord shards of a TFDS split, in order."""
  return sorted(Path(version_dir).glob(f'*-{split}.tfrecord-*'))


def read_records(path: PathLike) -> List[bytes]:
  return [r.numpy() for r in tf.data.TFRecordDataset(str(path))]


def record_offsets(path: PathLike) -> List[int]:
  """Byte offset of each record in a TFRecord file (framing, no CRC check)."""
  data = Path(path).read_bytes()
  offsets, at = [], 0
  while at < len(data):
    offsets.append(at)
    (length,) = struct.unpack('<Q', data[at:at + 8])
    at += 8 + 4 + length + 4
  return offsets


def write_records(path: PathLike, records: List[bytes]) -> None:
  with tf.io.TFRecordWriter(str(path)) as writer:
    for record in records:
      writer.write(record)


def edit_record(path: PathLike, index: int,
                edit: Callable[[tf.train.Example], None]) -> None:
  """Rewrites record `index` (0-based) of a shard after `edit` changes it."""
  records = read_records(path)
  example = tf.train.Example.FromString(records[index])
  edit(example)
  records[index] = example.SerializeToString()
  write_records(path, records)


def copy(version_dir: PathLike, dst: PathLike) -> Path:
  """Copies a prepared data dir's version folder to dst/celeb_a/<version>."""
  src = Path(version_dir)
  target = Path(dst) / src.parent.name / src.name
  shutil.copytree(src, target)
  return target
