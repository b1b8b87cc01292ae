"""Class and cohort weights derived from the training data, and the losses.

CelebA is imbalanced (about 42% Male and 77% Young), and its smallest cohort,
Non-Young x Male, is where a plain binary cross-entropy fails first. The
weighted loss scales each example's BCE by the inverse frequency of its label
value in the training split, so both values of a label carry the same total
weight:

    w_positive = N / (2 * N_positive),   w_negative = N / (2 * N_negative)

The reference study's remaining failure after that was a cohort (females
who are not young, predicted Young), not a label, so `cohort_weighted_bce`
weights each example by its Male x Young cohort instead, the same weight for
both outputs, so that the four cohorts carry the same total weight:

    w_cohort = N / (4 * N_cohort)

Those weights reach Keras as per-example sample weights
(`models.input_pipeline`), since a per-output loss sees only its own label.

The counts come from Transform's count vocabularies, never from constants,
so a different slice of CelebA (or another data set) gets its own weights.
"""

import dataclasses
from typing import Dict, Iterable, Mapping, Tuple

import tensorflow as tf
import tf_keras

from models import features
from models import preprocessing


@dataclasses.dataclass(frozen=True)
class ClassWeights:
  """Counts of one label in the training split and the weights they imply."""
  label: str
  num_positive: int
  num_negative: int

  @property
  def num_examples(self) -> int:
    return self.num_positive + self.num_negative

  @property
  def positive_rate(self) -> float:
    return self.num_positive / self.num_examples

  @property
  def positive_weight(self) -> float:
    return self.num_examples / (2.0 * self.num_positive)

  @property
  def negative_weight(self) -> float:
    return self.num_examples / (2.0 * self.num_negative)

  def as_dict(self) -> Dict[str, float]:
    return {
        'num_positive': self.num_positive,
        'num_negative': self.num_negative,
        'positive_rate': self.positive_rate,
        'positive_weight': self.positive_weight,
        'negative_weight': self.negative_weight,
    }


def parse_label_counts(label: str, lines: Iterable[bytes]) -> ClassWeights:
  """Reads a `store_frequency` vocabulary (`<count> <value>` per line).

  Raises:
    ValueError: if the vocabulary has values other than 0/1, or a label value
      never occurs (no weight can be derived, and the model could not learn
      that value anyway).
  """
  counts = {0: 0, 1: 0}
  for line in lines:
    text = line.decode() if isinstance(line, bytes) else line
    count, value = text.strip().split(' ', 1)
    if value not in ('0', '1'):
      raise ValueError(f'label {label!r}: unexpected value {value!r} in the '
                       'training split (labels must be 0 or 1)')
    counts[int(value)] = int(count)
  for value, count in counts.items():
    if count == 0:
      raise ValueError(f'label {label!r} has no examples with value {value} '
                       'in the training split; cannot weight or learn it')
  return ClassWeights(label=label, num_positive=counts[1],
                      num_negative=counts[0])


@dataclasses.dataclass(frozen=True)
class CohortCounts:
  """Examples per Male x Young cohort in the training split."""
  counts: Dict[Tuple[int, int], int]  # (male, young) -> examples

  @property
  def num_examples(self) -> int:
    return sum(self.counts.values())

  def weights(self) -> Dict[Tuple[int, int], float]:
    """Per-example weights under which every cohort weighs N / 4."""
    total = self.num_examples
    return {cohort: total / (len(self.counts) * count)
            for cohort, count in self.counts.items()}

  def resample_target(self, mode: str) -> int:
    """Examples per cohort in a resampled epoch: the largest cohort's count
    ('oversample') or the smallest's ('undersample')."""
    if mode == 'oversample':
      return max(self.counts.values())
    if mode == 'undersample':
      return min(self.counts.values())
    raise ValueError(f"resample must be 'oversample' or 'undersample', got "
                     f'{mode!r}')

  def resample_rates(self, mode: str) -> Dict[Tuple[int, int], float]:
    """Expected copies of an example per epoch, by cohort."""
    target = self.resample_target(mode)
    return {cohort: target / count for cohort, count in self.counts.items()}

  def as_dict(self) -> Dict[str, Dict[str, float]]:
    weights = self.weights()
    return {features.cohort_name(*cohort): {
        'num_examples': count, 'share': count / self.num_examples,
        'weight': weights[cohort]}
            for cohort, count in sorted(self.counts.items())}


def parse_cohort_counts(lines: Iterable[bytes]) -> CohortCounts:
  """Reads the `<count> <male>_<young>` cohort vocabulary.

  Raises:
    ValueError: on a value that is no cohort, or a cohort with no example
      (it could be neither weighted nor resampled).
  """
  counts = {cohort: 0 for cohort in features.COHORTS}
  for line in lines:
    text = line.decode() if isinstance(line, bytes) else line
    count, value = text.strip().split(' ', 1)
    try:
      cohort = tuple(int(v) for v in value.split('_'))
    except ValueError:
      cohort = None
    if cohort not in counts:
      raise ValueError(f'cohort counts: unexpected value {value!r} in the '
                       'training split (labels must be 0 or 1)')
    counts[cohort] = int(count)
  for cohort, count in counts.items():
    if count == 0:
      raise ValueError(f'the training split has no '
                       f'{features.cohort_name(*cohort)} examples; cohorts '
                       'cannot be balanced')
  return CohortCounts(counts=counts)


def cohort_counts_from_transform(tf_transform_output) -> CohortCounts:
  """Examples per cohort in train, from the Transform artifact."""
  return parse_cohort_counts(tf_transform_output.vocabulary_by_name(
      preprocessing.COHORT_COUNTS_VOCABULARY))


def class_weights_from_transform(
    tf_transform_output) -> Dict[str, ClassWeights]:
  """Class weights for every model output, from the Transform artifact."""
  return {
      label: parse_label_counts(
          label,
          tf_transform_output.vocabulary_by_name(
              preprocessing.label_counts_vocabulary_name(label)))
      for label in features.LABEL_KEYS
  }


@tf_keras.utils.register_keras_serializable(package='celeba')
class WeightedBinaryCrossentropy(tf_keras.losses.Loss):
  """Binary cross-entropy with one weight per label value."""

  def __init__(self, positive_weight: float = 1.0,
               negative_weight: float = 1.0,
               name: str = 'weighted_binary_crossentropy', **kwargs):
    super().__init__(name=name, **kwargs)
    self.positive_weight = float(positive_weight)
    self.negative_weight = float(negative_weight)

  def call(self, y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    y_pred = tf.convert_to_tensor(y_pred)
    y_true = tf.cast(tf.reshape(y_true, tf.shape(y_pred)), y_pred.dtype)
    bce = tf_keras.backend.binary_crossentropy(y_true, y_pred)
    weights = (y_true * self.positive_weight +
               (1.0 - y_true) * self.negative_weight)
    return tf.reduce_mean(bce * weights, axis=-1)

  def get_config(self) -> Dict[str, object]:
    return {**super().get_config(), 'positive_weight': self.positive_weight,
            'negative_weight': self.negative_weight}


def make_losses(loss: str, weights: Mapping[str, ClassWeights]
                ) -> Dict[str, tf_keras.losses.Loss]:
  """One loss per output: 'weighted_bce', or the plain BCE for 'bce' and
  for 'cohort_weighted_bce' (whose weights come with each example)."""
  if loss in ('bce', 'cohort_weighted_bce'):
    return {label: tf_keras.losses.BinaryCrossentropy(name=f'{label}_bce')
            for label in features.LABEL_KEYS}
  if loss == 'weighted_bce':
    return {
        label: WeightedBinaryCrossentropy(
            positive_weight=weights[label].positive_weight,
            negative_weight=weights[label].negative_weight,
            name=f'{label}_weighted_bce')
        for label in features.LABEL_KEYS
    }
  raise ValueError("loss must be 'weighted_bce', 'cohort_weighted_bce' or "
                   f"'bce', got {loss!r}")
