"""What runs inside Transform and the Trainer: features, preprocessing, model.

The bottom layer: it imports nothing else of the project.
"""

import os

# TF 2.16 hands out Keras 3 unless this is set before TensorFlow is
# imported; TFT, TFMA and the Trainer need Keras 2 (tf_keras). Every module
# of the package imports this file first, so it is set here once.
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
