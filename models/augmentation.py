"""Light, label-preserving augmentation of aligned faces, inside the model.

Horizontal flips and shifts of up to 3%: neither changes gender or age, and
aligned CelebA faces need no rotation. Stronger jitter (larger shifts,
contrast) slowed learning of fine cues such as wrinkles more than it curbed
overfitting on the sample.

The layers are the first layers of the network rather than a step of the
tf.data input pipeline: Keras runs them only when training, and on an
accelerator they run there. On the CPU, the shift alone cost about 70% of the
input pipeline's time at 224 px (benchmarks/input_pipeline_benchmark.py), so in
the input pipeline it would roughly triple the CPU cores a GPU worker needs to
stay fed.
"""

from typing import Optional

import tf_keras

AUGMENTATION_LAYER = 'augmentation'


def augmenter(seed: Optional[int] = None) -> tf_keras.Sequential:
  """The augmentation block; an identity when called with training=False."""
  # float32 even under mixed precision: the image ops work on full floats and
  # the backbone casts after them.
  return tf_keras.Sequential([
      tf_keras.layers.RandomFlip('horizontal', seed=seed, dtype='float32'),
      tf_keras.layers.RandomTranslation(0.03, 0.03, fill_mode='reflect',
                                        seed=seed, dtype='float32'),
  ], name=AUGMENTATION_LAYER)
