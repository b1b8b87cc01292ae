"""MobileNetV2 with two sigmoid heads, `Male` and `Young`.

Built with tf_keras (Keras 2): TFT, TFMA and the TFX Trainer need it, and
TF 2.16 would otherwise hand out Keras 3.

The backbone's pooled features are a named layer, `embedding`, so the
explanation stage can show the latent space the heads read from.
"""

from typing import Any, Optional

import tensorflow as tf
import tf_keras

from models import augmentation
from models import features
from models import preprocessing
from models import weights as weights_lib

BACKBONE_NAME = 'mobilenetv2_backbone'
EMBEDDING_LAYER = 'embedding'

def _backbone(image_size: int, alpha: float, weights: str) -> tf_keras.Model:
  input_shape = (image_size, image_size, 3)
  if weights in ('none', '', None):
    return tf_keras.applications.MobileNetV2(
        input_shape=input_shape, alpha=alpha, include_top=False, weights=None)
  if weights == 'imagenet':
    try:
      return tf_keras.applications.MobileNetV2(
          input_shape=input_shape, alpha=alpha, include_top=False,
          weights='imagenet')
    except Exception as e:  # Keras raises URL/OS errors of several kinds.
      name = weights_lib.imagenet_weights_file(alpha, image_size)
      raise weights_lib.WeightsUnavailableError(
          f'could not download the ImageNet weights for MobileNetV2 '
          f'(alpha={alpha}, {image_size} px): {e}. On a machine without '
          f'internet access, fetch {name} from '
          'https://storage.googleapis.com/tensorflow/keras-applications/'
          f'mobilenet_v2/{name}, then pass its path with --weights (or put '
          'it in ~/.keras/models/).') from e
  weights_lib.check_weights(weights, alpha)
  try:
    return tf_keras.applications.MobileNetV2(
        input_shape=input_shape, alpha=alpha, include_top=False,
        weights=weights)
  except ValueError as e:
    raise weights_lib.WeightsUnavailableError(
        f'{weights}: cannot load into MobileNetV2 (alpha={alpha}, '
        f'{image_size} px, no top): {e}') from e


class TwoHeadedNetwork(tf_keras.Model):
  """The network, with Keras' step functions traced as they are written.

  Keras wraps train_step, test_step and predict_step in a tf.function with
  AutoGraph on, which rewrites the Python source of every layer call it
  meets: for MobileNetV2's 150-odd layers that conversion took most of a
  minute per trace on a 2-core CPU, longer than training the sample for an
  epoch. The steps have no Python control flow that depends on a tensor, so
  there is nothing for AutoGraph to convert, and tracing them unconverted
  gives the same graph in seconds.
  """

  @tf.autograph.experimental.do_not_convert
  def train_step(self, data: Any) -> Any:
    return super().train_step(data)

  @tf.autograph.experimental.do_not_convert
  def test_step(self, data: Any) -> Any:
    return super().test_step(data)

  @tf.autograph.experimental.do_not_convert
  def predict_step(self, data: Any) -> Any:
    return super().predict_step(data)


def build_network(image_size: int,
                  alpha: float,
                  weights: str = 'none',
                  dropout: float = 0.2,
                  batch_norm_momentum: Optional[float] = None,
                  augment: bool = False,
                  seed: Optional[int] = None) -> tf_keras.Model:
  """Builds the two-headed classifier.

  Args:
    image_size: side of the square input, already scaled to [-1, 1].
    alpha: width multiplier of MobileNetV2.
    weights: 'imagenet', 'none' or a path to a no-top weights file.
    dropout: dropout rate on the pooled features.
    batch_norm_momentum: overrides every BatchNorm layer's momentum when set.
    augment: start with the augmentation layers (active only in training).
    seed: seed of the augmentation.

  Returns:
    A tf_keras Model taking `image_xf` and returning a dict of [batch, 1]
    float32 probabilities keyed by `Male` and `Young`.
  """
  backbone = _backbone(image_size, alpha, weights)
  backbone._name = BACKBONE_NAME  # pylint: disable=protected-access
  if batch_norm_momentum is not None:
    for layer in backbone.layers:
      if isinstance(layer, tf_keras.layers.BatchNormalization):
        layer.momentum = batch_norm_momentum

  inputs = tf_keras.Input((image_size, image_size, 3),
                          name=preprocessing.IMAGE_XF_KEY)
  x = augmentation.augmenter(seed)(inputs) if augment else inputs
  x = backbone(x)
  embedding = tf_keras.layers.GlobalAveragePooling2D(name=EMBEDDING_LAYER)(x)
  x = tf_keras.layers.Dropout(dropout)(embedding)
  # float32 heads keep the sigmoid and the loss stable under mixed precision.
  outputs = {
      label: tf_keras.layers.Dense(1, activation='sigmoid', name=label,
                                   dtype='float32')(x)
      for label in features.LABEL_KEYS
  }
  return TwoHeadedNetwork(inputs, outputs, name='celeba_mobilenetv2')


def backbone_of(model: tf_keras.Model) -> tf_keras.Model:
  return model.get_layer(BACKBONE_NAME)


def embedding_model(model: tf_keras.Model) -> tf_keras.Model:
  """The same network (shared weights) also returning the pooled features."""
  outputs = {label: model.get_layer(label).output
             for label in features.LABEL_KEYS}
  outputs[EMBEDDING_LAYER] = model.get_layer(EMBEDDING_LAYER).output
  return tf_keras.Model(model.inputs, outputs)
