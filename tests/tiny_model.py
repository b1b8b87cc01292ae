"""A small exported model with the real signatures, for tests that only run one.

The network is a few convolutions with the interface of models.network
(`image_xf` in, an `embedding` layer, sigmoid heads `Male` and `Young`); the
Transform graph is built by tf.Transform and the SavedModel written by
models.signatures.export, so every signature is the one a pushed model has.
Exporting takes seconds where MobileNetV2 would take a minute.
"""

from pathlib import Path
from typing import List, Sequence, Union

import tensorflow_transform as tft
import tf_keras

from models import features
from models import network as network_lib
from models import preprocessing
from models import signatures
from tests import example_data

# The network's input: the size of the shared Transform graph it is exported
# with (tests/conftest.py's `shared_transform`).
SIZE = example_data.SHARED_IMAGE_SIZE


def network(seed: int = 0) -> tf_keras.Model:
  """Randomly initialised; the head biases spread the probabilities apart."""
  tf_keras.utils.set_random_seed(seed)
  inputs = tf_keras.Input((SIZE, SIZE, 3), name=preprocessing.IMAGE_XF_KEY)
  x = tf_keras.layers.Conv2D(8, 3, strides=2, activation='relu')(inputs)
  x = tf_keras.layers.Conv2D(8, 3, strides=2, activation='relu')(x)
  embedding = tf_keras.layers.GlobalAveragePooling2D(name='embedding')(x)
  outputs = {
      label: tf_keras.layers.Dense(
          1, activation='sigmoid', name=label,
          kernel_initializer=tf_keras.initializers.RandomNormal(stddev=3.0))(
              embedding)
      for label in features.LABEL_KEYS}
  # The project's model class: its train and test steps skip AutoGraph.
  return network_lib.TwoHeadedNetwork(inputs, outputs)


def export_versions(serving_dir: Union[str, Path],
                    transform_output: tft.TFTransformOutput,
                    seeds: Sequence[int] = (0,),
                    first_version: int = 1700000000) -> List[str]:
  """Exports one network per seed as versions of a Pusher-style serving folder.

  Version `first_version + i` holds the network of `seeds[i]`, so the newest
  is the last seed's. One Transform graph (of SIZE px) serves them all
  (tracing it is most of an export's time).
  """
  serving_dir = Path(serving_dir)
  layer = transform_output.transform_features_layer()
  exported = []
  for i, seed in enumerate(seeds):
    export_dir = str(serving_dir / str(first_version + i))
    signatures.export(network(seed), layer, SIZE, export_dir)
    exported.append(export_dir)
  return exported
