"""What standard TFX does not give this pipeline, in two layers.

Bottom: `contracts/` (names and artifact file formats the parts share) and
`celeba/` (the CelebA data tools: convert, generate, find a run's data).
Above them: the custom components (DataReport, DataValidationGate,
report/ with SliceReport, explain/ with ModelExplainer) and their artifact
types (artifacts.py). Nothing here imports the DAG or the runners
(pipeline/).
"""

import os

# TF 2.16 hands out Keras 3 unless this is set before TensorFlow is
# imported; TFT, TFMA and the Trainer need Keras 2 (tf_keras). Every module
# of the package imports this file first, so it is set here once.
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

_ARTIFACT_TYPES = ('DataReport', 'SliceReport', 'ModelExplanation')


def __getattr__(name):
  """`components.DataReport` etc.: the artifact classes, imported on demand.

  Their TYPE_NAME is this import path (see components/artifacts.py); lazy so
  that `components.celeba` stays free of the TFX import.
  """
  if name in _ARTIFACT_TYPES:
    from components import artifacts  # pylint: disable=g-import-not-at-top
    return getattr(artifacts, name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
