"""Tests for models.augmentation."""

import numpy as np

from models import augmentation
from models import network


def _faces(n=4, size=32):
  rng = np.random.default_rng(0)
  return rng.uniform(-1, 1, (n, size, size, 3)).astype(np.float32)


def test_augmentation_changes_pixels_only_when_training():
  aug = augmentation.augmenter(seed=3)
  x = _faces()
  np.testing.assert_array_equal(aug(x, training=False).numpy(), x)
  augmented = aug(x, training=True).numpy()
  assert augmented.shape == x.shape
  assert not np.allclose(augmented, x)
  # Flips and reflect-padded shifts only move pixels around.
  assert augmented.min() >= -1.0 - 1e-5 and augmented.max() <= 1.0 + 1e-5


def test_network_augments_in_training_and_not_at_inference():
  model = network.build_network(32, alpha=0.35, augment=True, seed=1)
  assert model.get_layer(augmentation.AUGMENTATION_LAYER)
  x = _faces()
  first = model(x, training=False)['Male'].numpy()
  np.testing.assert_array_equal(model(x, training=False)['Male'].numpy(), first)
