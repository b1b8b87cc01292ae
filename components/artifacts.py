"""Artifact types of this project's own components.

Each report is a folder artifact recorded in MLMD like any TFX output, so a
run's reports are found the same way as its models and statistics, locally
and on Kubeflow.
"""

from tfx.types import artifact

# Each TYPE_NAME is also the class's import path, `components.<Class>`
# (exported lazily by components/__init__.py): Kubeflow V2 / Vertex encode a
# custom artifact type as a schema title `<module>.<Class>` (one dot, checked
# by TFX's compiler) and the container entrypoint imports the class from it.


class DataReport(artifact.Artifact):
  """Label balance per split and TFDV's statistics as standalone HTML."""
  TYPE_NAME = 'components.DataReport'


class SliceReport(artifact.Artifact):
  """Per-cohort evaluation report (HTML and Markdown) of one Evaluator run."""
  TYPE_NAME = 'components.SliceReport'


class ModelExplanation(artifact.Artifact):
  """Latent-space projections and saliency maps of a trained model."""
  TYPE_NAME = 'components.ModelExplanation'


class ModelCard(artifact.Artifact):
  """A model card (Model Card Toolkit schema v0.0.2): JSON, Markdown, HTML."""
  TYPE_NAME = 'components.ModelCard'
