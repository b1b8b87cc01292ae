"""The exported model, as the explanation stage sees it: two signatures.

The Trainer exports a plain `tf.Module` with signatures (models/signatures.py),
not a Keras model. Explanations use two of them:

* `transform_jpeg`: JPEG bytes to the network's input pixels (`image_xf`,
  [-1, 1]); the Transform graph, i.e. exactly the serving preprocessing;
* `predict_pixels`: pixels to the `Male` and `Young` probabilities and the
  pooled `embedding` the two heads read. Gradients flow through the loaded
  signature, which is all Integrated Gradients needs.

Splitting at the pixels is what lets saliency attribute to what the network
sees while the preprocessing stays the served one: no second copy of the
decode/resize/scale code can drift from the model's.
"""

import os

from typing import Dict, List, Sequence

import numpy as np
import tensorflow as tf

from models import features
from models import network
from models import preprocessing
from models import signatures

SAVED_MODEL_FILE = 'saved_model.pb'
# Where the Trainer puts the SavedModel inside its Model artifact.
TRAINER_SERVING_SUBDIR = 'Format-Serving'


class ModelNotFoundError(FileNotFoundError):
  """No SavedModel where one was expected."""


def resolve_model_dir(path: str) -> str:
  """Finds the SavedModel a user or the pipeline points at.

  Accepts a SavedModel folder, a Trainer Model artifact (its Format-Serving
  subfolder) or the Pusher's base directory, where each push is a numbered
  folder: the highest number (the latest push) is taken.
  """
  if tf.io.gfile.exists(os.path.join(path, SAVED_MODEL_FILE)):
    return path
  serving = os.path.join(path, TRAINER_SERVING_SUBDIR)
  if tf.io.gfile.exists(os.path.join(serving, SAVED_MODEL_FILE)):
    return serving
  if tf.io.gfile.isdir(path):
    pushes = sorted(
        (name.rstrip('/') for name in tf.io.gfile.listdir(path)
         if name.rstrip('/').isdigit() and tf.io.gfile.exists(
             os.path.join(path, name.rstrip('/'), SAVED_MODEL_FILE))),
        key=int)
    if pushes:
      return os.path.join(path, pushes[-1])
  raise ModelNotFoundError(
      f'no SavedModel in {path!r}: expected {SAVED_MODEL_FILE} there, in '
      f'{TRAINER_SERVING_SUBDIR}/ (a Trainer model) or in a numbered '
      'subfolder (a Pusher destination)')


class ServedModel:
  """An exported model loaded for explanation.

  Attributes:
    model_dir: the SavedModel folder that was loaded.
    image_size: side of the square input `predict_pixels` takes.
    outputs: the probability outputs, in features.LABEL_KEYS order.
  """

  def __init__(self, path: str):
    self.model_dir = resolve_model_dir(path)
    # Kept referenced: signatures only live as long as the loaded object.
    self._loaded = tf.saved_model.load(self.model_dir)
    missing = {signatures.TRANSFORM_JPEG, signatures.PREDICT_PIXELS} - set(
        self._loaded.signatures)
    if missing:
      raise ValueError(
          f'{self.model_dir} lacks the signatures {sorted(missing)}; it was '
          'not exported by models.signatures.export')
    self._transform = self._loaded.signatures[signatures.TRANSFORM_JPEG]
    self._predict = self._loaded.signatures[signatures.PREDICT_PIXELS]
    spec = self._predict.structured_input_signature[1][
        preprocessing.IMAGE_XF_KEY]
    self.image_size = int(spec.shape[1])
    self.outputs: List[str] = [
        k for k in features.LABEL_KEYS if k in self._predict.structured_outputs]

  def pixels(self, jpegs: Sequence[bytes]) -> np.ndarray:
    """The serving preprocessing: [n, size, size, 3] float32 in [-1, 1]."""
    out = self._transform(image_bytes=tf.constant(list(jpegs), tf.string))
    return out[preprocessing.IMAGE_XF_KEY].numpy()

  def predict_pixels(self, pixels: tf.Tensor) -> Dict[str, tf.Tensor]:
    """Probabilities ([n, 1] per output) and `embedding`; differentiable."""
    return self._predict(**{preprocessing.IMAGE_XF_KEY:
                            tf.convert_to_tensor(pixels, tf.float32)})

  @property
  def embedding_key(self) -> str:
    return network.EMBEDDING_LAYER
