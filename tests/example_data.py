"""Small in-memory CelebA-like examples and Transform graphs for unit tests.

The end-to-end tests use the real generated sample; these helpers give unit
tests a Transform graph in a second, built by tf.Transform itself over a few
examples, so what they test is the real graph.
"""

import collections
import functools
import os
import shutil
import tempfile
from typing import Dict, List, Optional, Sequence

import apache_beam as beam
import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata
from tensorflow_transform.tf_metadata import schema_utils

from models import features
from models import input_pipeline
from models import preprocessing
from tests import beam_pipelines


def random_jpeg(rng: np.random.Generator, width: int = 178,
                height: int = 218) -> bytes:
  """A JPEG of CelebA's size with random smooth content."""
  small = rng.integers(0, 256, (height // 8 + 1, width // 8 + 1, 3))
  image = tf.image.resize(small[None].astype(np.float32), [height, width])[0]
  return tf.io.encode_jpeg(tf.cast(image, tf.uint8)).numpy()


def raw_examples(
    n: int, seed: int = 0, male: Optional[Sequence[int]] = None,
    young: Optional[Sequence[int]] = None) -> List[Dict[str, list]]:
  """Examples as feature dicts: image, Male, Young (values as 1-lists)."""
  rng = np.random.default_rng(seed)
  male = list(male) if male is not None else list(rng.integers(0, 2, n))
  young = list(young) if young is not None else list(rng.integers(0, 2, n))
  return [{features.IMAGE_KEY: [random_jpeg(rng)],
           features.MALE_KEY: [int(male[i])],
           features.YOUNG_KEY: [int(young[i])]} for i in range(n)]


def serialize(example: Dict[str, list]) -> bytes:
  feature = {}
  for key, values in example.items():
    if isinstance(values[0], bytes):
      feature[key] = tf.train.Feature(bytes_list=tf.train.BytesList(
          value=values))
    else:
      feature[key] = tf.train.Feature(int64_list=tf.train.Int64List(
          value=values))
  return tf.train.Example(
      features=tf.train.Features(feature=feature)).SerializeToString()


def write_gzip_tfrecord(path: str, examples: Sequence[Dict[str, list]]) -> str:
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with tf.io.TFRecordWriter(path, options='GZIP') as writer:
    for example in examples:
      writer.write(serialize(example))
  return path


def build_transform_output(examples: Sequence[Dict[str, list]],
                           image_size: int,
                           output_dir: Optional[str] = None
                           ) -> tft.TFTransformOutput:
  """Runs tf.Transform's analyze step over `examples` and loads the result."""
  output_dir = output_dir or tempfile.mkdtemp()
  metadata = dataset_metadata.DatasetMetadata(
      schema_utils.schema_from_feature_spec(
          input_pipeline.raw_feature_spec(with_labels=True)))
  with tft_beam.Context(temp_dir=os.path.join(output_dir, 'tmp'),
                        force_tf_compat_v1=False):
    with beam_pipelines.local() as pipeline:
      transform_fn = (
          (pipeline | beam.Create(list(examples), reshuffle=False), metadata)
          | tft_beam.AnalyzeDataset(
              lambda inputs: preprocessing.preprocessing_fn(
                  inputs, {'image_size': image_size})))
      _ = transform_fn | tft_beam.WriteTransformFn(output_dir)
  return tft.TFTransformOutput(output_dir)


# The examples behind the shared Transform graph: 24 faces whose Male x Young
# cohorts are as unequal as CelebA's, so the tests of label counts, class and
# cohort weights read them from the same graph as the rest.
SHARED_MALE = (0,) * 12 + (1,) * 6 + (0,) * 4 + (1,) * 2
SHARED_YOUNG = (1,) * 18 + (0,) * 6
# (Male, Young) -> faces: (0, 1) 12, (1, 1) 6, (0, 0) 4, (1, 0) 2.
SHARED_COHORT_COUNTS = dict(collections.Counter(zip(SHARED_MALE, SHARED_YOUNG)))


@functools.lru_cache(maxsize=None)
def shared_examples() -> Sequence[Dict[str, list]]:
  """The 24 examples `shared_transform_output` analyzed, in order."""
  return tuple(raw_examples(len(SHARED_MALE), seed=5, male=SHARED_MALE,
                            young=SHARED_YOUNG))


# The image size of the shared Transform graph.
SHARED_IMAGE_SIZE = 32


def shared_transform_output(folder: str) -> tft.TFTransformOutput:
  """The Transform graph of `shared_examples()` at SHARED_IMAGE_SIZE, kept in
  `folder` (tests/conftest.py's `shared_transform` fixture: one folder for
  the run, shared by its pytest-xdist workers). Building it takes seconds,
  mostly Beam's own set-up, so a worker that finds it there reads it; one
  that does not builds it aside and moves it into place whole, so no worker
  reads a half-written graph (of two building at once, the first to move its
  copy wins and the other's is removed)."""
  if not os.path.isdir(folder):
    staging = tempfile.mkdtemp(prefix=os.path.basename(folder) + '.',
                               dir=os.path.dirname(folder))
    build_transform_output(shared_examples(), SHARED_IMAGE_SIZE, staging)
    try:
      os.rename(staging, folder)
    except OSError:  # another worker's graph got there first
      shutil.rmtree(staging, ignore_errors=True)
  return tft.TFTransformOutput(folder)


def transform_dir(output: tft.TFTransformOutput) -> str:
  """The folder of a Transform graph, as FnArgs names it."""
  return os.path.dirname(output.transform_savedmodel_dir)
