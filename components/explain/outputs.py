"""Writing into the explanation's output folder, local or remote.

Every file goes through `tf.io.gfile`, so the same code writes to a local
pipeline root and to `gs://` on Vertex AI / Kubeflow. Encoders (PIL,
matplotlib, numpy) write into memory first; gfile copies the bytes.
"""

import io
import os
from typing import Union

import numpy as np
import tensorflow as tf


def write_bytes(path: str, data: Union[bytes, bytearray]) -> str:
  tf.io.gfile.makedirs(os.path.dirname(path) or '.')
  with tf.io.gfile.GFile(path, 'wb') as f:
    f.write(bytes(data))
  return path


def write_text(path: str, text: str) -> str:
  return write_bytes(path, text.encode('utf-8'))


def write_figure(path: str, figure, dpi: int = 100) -> str:
  """Saves a matplotlib Figure as PNG."""
  buffer = io.BytesIO()
  figure.savefig(buffer, format='png', dpi=dpi)
  return write_bytes(path, buffer.getvalue())


def write_npz(path: str, **arrays) -> str:
  buffer = io.BytesIO()
  np.savez_compressed(buffer, **arrays)
  return write_bytes(path, buffer.getvalue())
