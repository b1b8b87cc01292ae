"""Artifact types of this project's own components.

Each report is a folder artifact recorded in MLMD like any TFX output, so a
run's reports are found the same way as its models and statistics, locally
and on Kubeflow.
"""

from tfx.types import artifact


class DataReport(artifact.Artifact):
  """Label balance per split and TFDV's statistics as standalone HTML."""
  TYPE_NAME = 'DataReport'


class SliceReport(artifact.Artifact):
  """Per-cohort evaluation report (HTML and Markdown) of one Evaluator run."""
  TYPE_NAME = 'SliceReport'


class ModelExplanation(artifact.Artifact):
  """Latent-space projections and saliency maps of a trained model."""
  TYPE_NAME = 'ModelExplanation'
