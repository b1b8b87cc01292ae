"""Exported signatures: the Transform graph and the network, end to end.

* `serving_default`: serialized `tf.Example`s holding the raw JPEG under
  `image` (what TFMA and TF Serving's REST/gRPC `predict` send).
* `serving_jpeg`: raw JPEG bytes, for callers that have only a file.
* `transform_jpeg`: raw JPEG bytes to the network's input pixels, the serving
  preprocessing on its own (explanations attribute to these pixels).
* `predict_pixels`: network input pixels to probabilities and the `embedding`
  the heads read (the latent space shown by the explanation stage).

All return float32 probabilities of shape [batch, 1] named `Male` and `Young`
(and `embedding` for `predict_pixels`).
"""

from typing import Dict

import tensorflow as tf
import tf_keras
from tf_keras.src.saving.legacy.saved_model import utils as keras_saved_model_utils

from models import features
from models import input_pipeline
from models import network
from models import preprocessing

SERVING_DEFAULT = 'serving_default'
SERVING_JPEG = 'serving_jpeg'
TRANSFORM_JPEG = 'transform_jpeg'
PREDICT_PIXELS = 'predict_pixels'
# The export's attribute holding the network's variables in the order the
# network builds them (models.warm_start reads them back).
MODEL_VARIABLES = 'model_variables'


def _float32(outputs: Dict[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
  return {k: tf.cast(v, tf.float32) for k, v in outputs.items()}


def make_signatures(
    model: tf_keras.Model, tft_layer: tf_keras.layers.Layer,
    image_size: int) -> Dict[str, tf.types.experimental.ConcreteFunction]:
  """Concrete functions for every signature, sharing the model's variables.

  The network is traced once, in `predict_pixels`; the other signatures call
  that function. AutoGraph is off: nothing here branches on a tensor, and
  converting MobileNetV2's layer calls would cost most of the tracing time.
  """
  with_embedding = network.embedding_model(model)
  parse_spec = input_pipeline.raw_feature_spec(with_labels=False)

  @tf.function(autograph=False, input_signature=[
      tf.TensorSpec([None, image_size, image_size, 3], tf.float32,
                    name=preprocessing.IMAGE_XF_KEY)])
  def predict_pixels(pixels):
    # A batch of one runs 10-30x slower than a batch of two through
    # TensorFlow 2.16's oneDNN kernels for MobileNetV2 on x86 (1.3 against
    # 36 images/s at 224 px, alpha 1.0), and TFMA's adaptive batching then
    # stays at one: a single image is scored beside a blank one.
    size = tf.shape(pixels)[0]
    padded = tf.pad(pixels, [[0, tf.maximum(2 - size, 0)], [0, 0], [0, 0],
                             [0, 0]])
    outputs = with_embedding(padded, training=False)
    return _float32({key: value[:size] for key, value in outputs.items()})

  def pixels_of(jpeg_bytes: tf.Tensor) -> tf.Tensor:
    transformed = tft_layer(
        {features.IMAGE_KEY: tf.reshape(jpeg_bytes, [-1, 1])})
    return transformed[preprocessing.IMAGE_XF_KEY]

  def predict(pixels: tf.Tensor) -> Dict[str, tf.Tensor]:
    outputs = predict_pixels(pixels)
    return {label: outputs[label] for label in features.LABEL_KEYS}

  @tf.function(autograph=False, input_signature=[
      tf.TensorSpec([None], tf.string, name='examples')])
  def serve_examples(serialized):
    parsed = tf.io.parse_example(serialized, parse_spec)
    return predict(pixels_of(parsed[features.IMAGE_KEY]))

  @tf.function(autograph=False, input_signature=[
      tf.TensorSpec([None], tf.string, name='image_bytes')])
  def serve_jpeg(image_bytes):
    return predict(pixels_of(image_bytes))

  @tf.function(autograph=False, input_signature=[
      tf.TensorSpec([None], tf.string, name='image_bytes')])
  def transform_jpeg(image_bytes):
    return {preprocessing.IMAGE_XF_KEY: pixels_of(image_bytes)}

  return {
      SERVING_DEFAULT: serve_examples.get_concrete_function(),
      SERVING_JPEG: serve_jpeg.get_concrete_function(),
      TRANSFORM_JPEG: transform_jpeg.get_concrete_function(),
      PREDICT_PIXELS: predict_pixels.get_concrete_function(),
  }


def export(model: tf_keras.Model, tft_layer: tf_keras.layers.Layer,
           image_size: int, export_dir: str) -> None:
  """Saves the signatures with the variables and Transform graph they use.

  What is saved is a plain `tf.Module` holding the model's variables and the
  Transform layer, not the Keras model: every consumer (TF Serving, TFMA, the
  explanation stage) uses the signatures, and skipping Keras' per-layer
  serialization makes the export several times faster.
  """
  module = tf.Module()
  setattr(module, MODEL_VARIABLES, list(model.variables))
  # Tracked so the Transform graph's assets and resources are saved too.
  module.tft_layer = tft_layer
  functions = make_signatures(model, tft_layer, image_size)
  # The Transform layer is a Keras layer, and Keras would trace its call
  # functions (with AutoGraph) into the SavedModel for reloading it as Keras;
  # nothing reloads it so, and the tracing took half a minute here.
  # tf_keras offers the switch (`save_traces`) only through this scope.
  with keras_saved_model_utils.keras_option_scope(save_traces=False):
    tf.saved_model.save(module, export_dir, signatures=functions)
