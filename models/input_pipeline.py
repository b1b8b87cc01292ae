"""The Trainer's input pipeline: raw JPEG TFRecords through the Transform graph.

Transform does not materialize decoded pixels (see `models.preprocessing`), so
this is where decoding happens during training: read GZIP TFRecords, shuffle
the still-compressed examples (cheap: a few KB each), batch, parse, apply the
Transform graph (decode, resize, scale), prefetch. Data whose decoded pixels
fit in memory (the built-in sample: 0.3 GB) is decoded once and cached, so
later epochs pay only for the network. Decoding runs on
`num_parallel_calls` threads, which is what keeps an accelerator fed; see
`benchmarks/input_pipeline_benchmark.py` for its throughput per core.
Augmentation is part of the network (models/augmentation.py), not of this
pipeline, so it runs on the accelerator.

Two of the balancing methods live here, because they act on examples rather
than on the loss: per-example cohort weights (Keras sample weights, for
`cohort_weighted_bce`) and resampling of the training stream so that the four
Male x Young cohorts come equally often (`oversample` repeats the smaller
cohorts' examples, `undersample` drops examples of the larger ones; each
example's number of copies per epoch is drawn, seeded, around its cohort's
rate, so epochs differ in which examples they repeat or drop).
"""

from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import tensorflow as tf
import tf_keras

from models import features
from models import preprocessing

AUTOTUNE = tf.data.AUTOTUNE


def raw_feature_spec(
    with_labels: bool = True) -> Dict[str, tf.io.FixedLenFeature]:
  """What the model reads from a raw example: the JPEG and, to train, labels."""
  spec = {features.IMAGE_KEY: tf.io.FixedLenFeature([1], tf.string)}
  if with_labels:
    spec.update({label: tf.io.FixedLenFeature([1], tf.int64)
                 for label in features.LABEL_KEYS})
  return spec


def _gzip_files(file_pattern: Union[str, Sequence[str]]) -> List[str]:
  patterns = [file_pattern] if isinstance(file_pattern, str) else file_pattern
  files = sorted(f for p in patterns for f in tf.io.gfile.glob(p))
  if not files:
    raise FileNotFoundError(f'no TFRecord files match {list(patterns)}')
  return files


Cohort = Tuple[int, int]  # (male, young)

# Decoded examples a resampled stream is shuffled over, so that the copies of
# one example do not land in one batch.
_RESAMPLE_MIX_BUFFER = 512


def _cohort_table(values: Mapping[Cohort, float]) -> tf.Tensor:
  """[4] float32, indexed by 2 * male + young."""
  return tf.constant([values[(m, y)] for m in (0, 1) for y in (0, 1)],
                     tf.float32)


def _cohort_index(labels: Dict[str, tf.Tensor]) -> tf.Tensor:
  male = tf.cast(tf.reshape(labels[features.MALE_KEY], [-1]), tf.int32)
  young = tf.cast(tf.reshape(labels[features.YOUNG_KEY], [-1]), tf.int32)
  return 2 * male + young


def resample(elements: tf.data.Dataset, rates: Mapping[Cohort, float],
             seed: Optional[int]) -> tf.data.Dataset:
  """Each (pixels, labels) element `rate` times in expectation, by cohort.

  An element of a cohort with rate 2.3 comes twice, or three times with
  probability 0.3; with rate 0.4 once with probability 0.4, else not at all.
  """
  table = _cohort_table(rates)
  randoms = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)

  @tf.autograph.experimental.do_not_convert
  def copies(element, random):
    rate = tf.gather(table, _cohort_index(element[1]))[0]
    uniform = tf.cast(random % 1_000_003, tf.float32) / 1_000_003.0
    whole = tf.floor(rate)
    count = whole + tf.cast(uniform < rate - whole, tf.float32)
    return tf.data.Dataset.from_tensors(element).repeat(
        tf.cast(count, tf.int64))

  return tf.data.Dataset.zip((elements, randoms)).flat_map(copies)


def with_sample_weights(batches: tf.data.Dataset,
                        weights: Mapping[Cohort, float]) -> tf.data.Dataset:
  """(pixels, labels) batches -> (pixels, labels, {label: weight}) batches."""
  table = _cohort_table(weights)

  @tf.autograph.experimental.do_not_convert
  def add(pixels, labels):
    weight = tf.reshape(tf.gather(table, _cohort_index(labels)), [-1, 1])
    return pixels, labels, {label: weight for label in features.LABEL_KEYS}

  return batches.map(add, num_parallel_calls=AUTOTUNE, deterministic=True)


# Examples decoded per call of the Transform graph when pixels are cached:
# large enough to amortize the graph call, small enough to stay a few MB.
_DECODE_BATCH = 128


def make_dataset(file_pattern: Union[str, Sequence[str]],
                 tft_layer: tf_keras.layers.Layer,
                 batch_size: int,
                 training: bool,
                 shuffle_buffer: int = 4096,
                 seed: Optional[int] = None,
                 num_parallel_calls: int = AUTOTUNE,
                 repeat: bool = False,
                 cache_in_memory: bool = False,
                 max_examples: Optional[int] = None,
                 resample_rates: Optional[Mapping[Cohort, float]] = None,
                 cohort_weights: Optional[Mapping[Cohort, float]] = None
                 ) -> tf.data.Dataset:
  """(image_xf, {label: 0/1}) batches from raw CelebA example files.

  Args:
    file_pattern: glob(s) of GZIP TFRecord files of raw examples.
    tft_layer: the Transform graph as a Keras layer
      (`TFTransformOutput.transform_features_layer()`).
    batch_size: examples per batch.
    training: shuffle; evaluation keeps file order.
    shuffle_buffer: shuffle buffer in examples: compressed examples before
      decoding when streaming, decoded pixels when cached (pass the number
      of examples for a full shuffle).
    seed: seed for shuffling.
    num_parallel_calls: threads decoding batches; AUTOTUNE lets tf.data pick.
    repeat: repeat forever (for step-based training and benchmarks).
    cache_in_memory: decode every example once, in file order, and keep the
      pixels in memory for the following epochs. Only for data whose pixels
      fit (float32: 110 KB an image at 96 px, 602 KB at 224 px); the caller
      decides.
    max_examples: read only the first this many examples, in file order
      (e.g. to bound a validation pass); None reads them all.
    resample_rates: expected copies per epoch of an example, by cohort
      (training only; see `resample`). The stream then repeats: give the
      epoch length to Keras.
    cohort_weights: add a third element, each example's weight by cohort,
      for every output (Keras sample weights).
  """
  # Seeded training keeps element order fixed, so reruns see the same batches.
  deterministic = not training or seed is not None
  files = _gzip_files(file_pattern)
  dataset = tf.data.Dataset.from_tensor_slices(files)
  if training and not cache_in_memory:
    dataset = dataset.shuffle(len(files), seed=seed)
  dataset = dataset.interleave(
      lambda f: tf.data.TFRecordDataset(f, compression_type='GZIP'),
      cycle_length=min(len(files), 4),
      num_parallel_calls=AUTOTUNE,
      deterministic=deterministic or cache_in_memory)
  if max_examples is not None:
    dataset = dataset.take(max_examples)
  spec = raw_feature_spec(with_labels=True)

  # Traced as written: AutoGraph would rewrite the Transform layer's Python
  # on every trace, and nothing here branches on a tensor.
  @tf.autograph.experimental.do_not_convert
  def transform(serialized: tf.Tensor
                ) -> Tuple[tf.Tensor, Dict[str, tf.Tensor]]:
    parsed = tf.io.parse_example(serialized, spec)
    transformed = tft_layer(parsed)
    labels = {label: tf.reshape(transformed[label], [-1, 1])
              for label in features.LABEL_KEYS}
    return transformed[preprocessing.IMAGE_XF_KEY], labels

  def finish(batches: tf.data.Dataset) -> tf.data.Dataset:
    if cohort_weights is not None:
      batches = with_sample_weights(batches, cohort_weights)
    return batches.prefetch(AUTOTUNE)

  if cache_in_memory or resample_rates is not None:
    if training and resample_rates is not None and not cache_in_memory:
      # Shuffle the compressed examples; decoded ones are large.
      dataset = dataset.shuffle(shuffle_buffer, seed=seed,
                                reshuffle_each_iteration=True)
    dataset = (dataset.batch(_DECODE_BATCH)
               .map(transform, num_parallel_calls=num_parallel_calls,
                    deterministic=True)
               .unbatch())
    if cache_in_memory:
      dataset = dataset.cache()
      if training:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed,
                                  reshuffle_each_iteration=True)
    if training and resample_rates is not None:
      dataset = resample(dataset, resample_rates, seed).shuffle(
          _RESAMPLE_MIX_BUFFER, seed=seed, reshuffle_each_iteration=True)
      repeat = True
    if repeat:
      dataset = dataset.repeat()
    return finish(dataset.batch(batch_size))

  if training:
    dataset = dataset.shuffle(shuffle_buffer, seed=seed,
                              reshuffle_each_iteration=True)
  if repeat:
    dataset = dataset.repeat()
  dataset = dataset.batch(batch_size, drop_remainder=False)
  dataset = dataset.map(transform, num_parallel_calls=num_parallel_calls,
                        deterministic=deterministic)
  return finish(dataset)


def pixel_bytes(num_examples: int, image_size: int) -> int:
  """Memory the decoded float32 pixels of `num_examples` images take."""
  return num_examples * image_size * image_size * 3 * 4
