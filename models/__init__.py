"""What runs inside Transform and the Trainer: features, preprocessing, model.

The bottom layer: it imports nothing else of the project. Its import also
sets, once for every entry point of the project (the other packages and the
tests import it first), the environment TensorFlow reads when it is itself
imported:

* TF_USE_LEGACY_KERAS=1: TF 2.16 hands out Keras 3; TFT, TFMA and the
  Trainer need Keras 2 (tf_keras).
* TF_ENABLE_ONEDNN_OPTS=1: TF turns oneDNN's CPU kernels on by itself only
  on CPUs with AVX-512 or AMX; on AVX2 CPUs they trained MobileNetV2 1.7
  times faster here, and seeded runs stay deterministic.

Both are defaults: a value already in the environment wins. The pipeline
image sets the same in its ENV (Dockerfile), for every process there.
"""

import os

TENSORFLOW_ENV = {'TF_USE_LEGACY_KERAS': '1', 'TF_ENABLE_ONEDNN_OPTS': '1'}

for _name, _value in TENSORFLOW_ENV.items():
  os.environ.setdefault(_name, _value)
