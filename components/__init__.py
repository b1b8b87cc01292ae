"""What standard TFX does not give this pipeline, in two layers.

Bottom: `contracts/` (names and artifact file formats the parts share) and
`celeba/` (the CelebA data tools: convert, generate, find a run's data).
Above them: the custom components (DataReport, DataValidationGate,
baseline/ with ServedBaseline and its Evaluator, report/ with SliceReport,
explain/ with ModelExplainer, model_card/ with ModelCardGenerator) and their
artifact types (artifacts.py). Nothing here imports the DAG or the runners
(pipeline/).
"""

# TensorFlow's environment (Keras 2, oneDNN), before anything imports it.
import models  # pylint: disable=unused-import

_ARTIFACT_TYPES = ('DataReport', 'SliceReport', 'ModelExplanation',
                   'ModelCard')


def __getattr__(name):
  """`components.DataReport` etc.: the artifact classes, imported on demand.

  Their TYPE_NAME is this import path (see components/artifacts.py); lazy so
  that `components.celeba` stays free of the TFX import.
  """
  if name in _ARTIFACT_TYPES:
    from components import artifacts  # pylint: disable=g-import-not-at-top
    return getattr(artifacts, name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
