"""Tests for models.losses."""

import numpy as np
import pytest
import tf_keras

from models import losses


def test_weights_balance_the_two_label_values():
  w = losses.parse_label_counts('Young', [b'774 1', b'226 0'])
  assert w.num_positive == 774 and w.num_negative == 226
  assert w.positive_rate == pytest.approx(0.774)
  assert w.positive_weight == pytest.approx(1000 / (2 * 774))
  assert w.negative_weight == pytest.approx(1000 / (2 * 226))
  # Each value carries half of the total weight.
  assert w.num_positive * w.positive_weight == pytest.approx(500)
  assert w.num_negative * w.negative_weight == pytest.approx(500)


@pytest.mark.parametrize('lines, message', [
    ([b'10 1'], 'no examples with value 0'),
    ([b'10 0'], 'no examples with value 1'),
    ([b'10 1', b'3 0', b'2 2'], "unexpected value '2'"),
])
def test_unusable_counts_are_rejected(lines, message):
  with pytest.raises(ValueError, match=message):
    losses.parse_label_counts('Male', lines)


def test_weighted_bce_matches_its_definition():
  y = np.array([[1.], [0.], [1.], [0.]], np.float32)
  p = np.array([[0.9], [0.2], [0.3], [0.6]], np.float32)
  loss = losses.WeightedBinaryCrossentropy(positive_weight=2.0,
                                           negative_weight=0.5)
  expected = np.mean([
      -2.0 * np.log(0.9), -0.5 * np.log(0.8),
      -2.0 * np.log(0.3), -0.5 * np.log(0.4)])
  assert float(loss(y, p)) == pytest.approx(expected, rel=1e-5)


def test_unit_weights_equal_plain_bce():
  y = np.array([[1.], [0.], [1.]], np.float32)
  p = np.array([[0.7], [0.1], [0.4]], np.float32)
  weighted = losses.WeightedBinaryCrossentropy(1.0, 1.0)(y, p)
  plain = tf_keras.losses.BinaryCrossentropy()(y, p)
  assert float(weighted) == pytest.approx(float(plain), rel=1e-5)


def test_weighted_loss_serializes():
  loss = losses.WeightedBinaryCrossentropy(1.5, 0.7, name='x')
  clone = losses.WeightedBinaryCrossentropy.from_config(loss.get_config())
  assert (clone.positive_weight, clone.negative_weight) == (1.5, 0.7)


def test_make_losses_picks_the_loss():
  weights = {'Male': losses.ClassWeights('Male', 4, 6),
             'Young': losses.ClassWeights('Young', 8, 2)}
  weighted = losses.make_losses('weighted_bce', weights)
  assert weighted['Young'].positive_weight == pytest.approx(10 / 16)
  assert weighted['Young'].negative_weight == pytest.approx(10 / 4)
  plain = losses.make_losses('bce', weights)
  assert all(isinstance(l, tf_keras.losses.BinaryCrossentropy)
             for l in plain.values())
  with pytest.raises(ValueError):
    losses.make_losses('focal', weights)


def test_class_weights_come_from_the_transform_graph(shared_transform):
  # 8 of the 24 shared examples are Male, 18 Young.
  weights = losses.class_weights_from_transform(shared_transform)
  assert weights['Male'].positive_rate == pytest.approx(8 / 24)
  assert weights['Male'].positive_weight == pytest.approx(24 / (2 * 8))
  assert weights['Young'].negative_weight == pytest.approx(24 / (2 * 6))
