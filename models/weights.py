"""The backbone's weights, named and checked without TensorFlow.

The runners check a weights file before any work (a wrong file used to fail
in the Trainer, minutes into a run), and the network builder names the
ImageNet file an offline machine must fetch; neither needs TensorFlow, so
this module imports only h5py, and only to look inside a file.
"""

import os

# Keras stores ImageNet weights per (alpha, size) under this name; the message
# for offline machines names the exact file to fetch.
_IMAGENET_FILE = ('mobilenet_v2_weights_tf_dim_ordering_tf_kernels_'
                  '{alpha}_{size}_no_top.h5')
_IMAGENET_SIZES = (96, 128, 160, 192, 224)


class WeightsUnavailableError(RuntimeError):
  """Pretrained weights were asked for but cannot be loaded."""


def imagenet_weights_file(alpha: float, image_size: int) -> str:
  """File name Keras uses for the no-top ImageNet weights of this model."""
  size = min(_IMAGENET_SIZES, key=lambda s: abs(s - image_size))
  alpha_text = f'{alpha:g}' if alpha != 1.0 else '1.0'
  return _IMAGENET_FILE.format(alpha=alpha_text, size=size)


_HDF5_SIGNATURE = b'\x89HDF\r\n\x1a\n'


def first_layer_filters(alpha: float) -> int:
  """Filters of MobileNetV2's first convolution for a width multiplier."""
  filters = 32 * alpha
  rounded = max(8, int(filters + 4) // 8 * 8)
  return rounded + 8 if rounded < 0.9 * filters else rounded


def check_weights(weights: str, alpha: float) -> None:
  """Checks, without TensorFlow, that `weights` can be what the network loads.

  'imagenet' and 'none' pass. A file must exist, be HDF5 (what Keras'
  save_weights writes) and hold a first convolution as wide as this alpha
  makes it: a weights file of another width fails here in a second rather
  than in the Trainer minutes later.

  Raises:
    WeightsUnavailableError: naming the file and what is wrong with it.
  """
  if weights in ('imagenet', 'none', '', None):
    return
  if not os.path.isfile(weights):
    raise WeightsUnavailableError(
        f'weights must be "imagenet", "none" or a path to a Keras weights '
        f'file; {weights!r} does not exist')
  with open(weights, 'rb') as f:
    if f.read(len(_HDF5_SIGNATURE)) != _HDF5_SIGNATURE:
      raise WeightsUnavailableError(
          f'{weights}: not a Keras weights file (HDF5, as save_weights '
          'writes it)')
  import h5py  # pylint: disable=g-import-not-at-top
  try:
    with h5py.File(weights, 'r') as f:
      kernel = f['Conv1']['Conv1']['kernel:0'].shape
  except (KeyError, OSError) as e:
    raise WeightsUnavailableError(
        f'{weights}: holds no MobileNetV2 backbone (no Conv1 kernel: {e})'
    ) from None
  if kernel[-1] != first_layer_filters(alpha):
    raise WeightsUnavailableError(
        f'{weights}: a MobileNetV2 with {kernel[-1]} first-layer filters, '
        f'not the {first_layer_filters(alpha)} of alpha={alpha:g}')
