"""The Transform graph: JPEG bytes in, MobileNetV2-ready pixels and labels out.

The same graph runs in three places: over the training data in the Trainer's
input pipeline, inside both serving signatures of the exported model, and
therefore inside TFMA. Train/serve skew in decoding, resizing or scaling is
impossible by construction.

Where decoding happens is a deliberate choice. Decoded float32 pixels cost
602 KB per 224 px image (4x the JPEG on disk even at 96 px), so the pipeline
does not materialize Transform's output: the Trainer streams the original JPEG
TFRecords through this graph (`Transform(materialize=False)`), and Transform
itself only analyzes the labels. Nothing here depends on the number of
examples but the two label-count vocabularies.

Class weights for the loss come from the training split itself: a frequency
vocabulary of each label (`<label>_label_counts` in the transform graph's
assets, readable as text), and one of the Male x Young cohorts
(`cohort_counts`), that `models.losses` turns into weights and
`models.input_pipeline` into resampling rates.
"""

from typing import Any, Dict, Mapping, Optional

import tensorflow as tf
import tensorflow_transform as tft

from models import features

# Name of the transformed image feature fed to the network.
IMAGE_XF_KEY = 'image_xf'

DEFAULT_IMAGE_SIZE = 96


def label_counts_vocabulary_name(label: str) -> str:
  """Name of the asset holding `count value` lines for one label."""
  return f'{label}_label_counts'


COHORT_COUNTS_VOCABULARY = 'cohort_counts'


def cohort_key(male: tf.Tensor, young: tf.Tensor) -> tf.Tensor:
  """'<Male>_<Young>' (e.g. '1_0'): a cohort as a vocabulary value."""
  return tf.strings.join([tf.strings.as_string(male),
                          tf.strings.as_string(young)], separator='_')


def decode_and_resize(jpeg_bytes: tf.Tensor, image_size: int) -> tf.Tensor:
  """Decodes a batch of JPEGs into MobileNetV2 inputs.

  Args:
    jpeg_bytes: string tensor of shape [batch] or [batch, 1].
    image_size: side of the square output.

  Returns:
    float32 tensor [batch, image_size, image_size, 3] scaled to [-1, 1], the
    range `tf_keras.applications.mobilenet_v2.preprocess_input` produces.
    CelebA's aligned 178x218 faces are resized whole (not cropped) so the
    chin, neck and hair, which carry gender and age cues, stay in view.
  """
  jpeg_bytes = tf.reshape(jpeg_bytes, [-1])

  def decode_one(data: tf.Tensor) -> tf.Tensor:
    image = tf.io.decode_jpeg(data, channels=3)
    image = tf.image.resize(image, [image_size, image_size], antialias=True)
    return tf.reshape(image, [image_size, image_size, 3])

  images = tf.map_fn(
      decode_one,
      jpeg_bytes,
      fn_output_signature=tf.TensorSpec([image_size, image_size, 3],
                                        tf.float32))
  return images / 127.5 - 1.0


def preprocessing_fn(inputs: Mapping[str, Any],
                     custom_config: Optional[Dict[str, Any]] = None
                     ) -> Dict[str, tf.Tensor]:
  """tf.Transform's callback: raw CelebA features to model features.

  Args:
    inputs: raw features parsed with the curated schema; at serving time only
      `image` is present, and the label outputs are pruned away.
    custom_config: the Transform component's custom_config; `image_size`
      sets the network's input size.

  Returns:
    `image_xf` (float32 pixels in [-1, 1]) and one float32 0/1 label per
    model output, keyed by the label's CelebA name.
  """
  image_size = int((custom_config or {}).get('image_size', DEFAULT_IMAGE_SIZE))
  outputs = {
      IMAGE_XF_KEY: decode_and_resize(inputs[features.IMAGE_KEY], image_size)
  }
  for label in features.LABEL_KEYS:
    values = tf.reshape(inputs[label], [-1])
    # Analyzed over the training split only (the Transform splits_config).
    tft.vocabulary(
        values,
        vocab_filename=label_counts_vocabulary_name(label),
        store_frequency=True)
    outputs[label] = tf.cast(values, tf.float32)
  tft.vocabulary(
      cohort_key(tf.reshape(inputs[features.MALE_KEY], [-1]),
                 tf.reshape(inputs[features.YOUNG_KEY], [-1])),
      vocab_filename=COHORT_COUNTS_VOCABULARY, store_frequency=True)
  return outputs
