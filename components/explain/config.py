"""The explanation stage's knobs, as one value the component and CLI share.

The ModelExplainer component receives the whole config as one JSON parameter
and `python -m components.explain` has one flag per field, so neither restates
the fields or their defaults. The defaults here are the built-in sample's;
pipeline/configs.py sets the values each preset uses.
"""

import dataclasses
import json
from typing import Any, Dict


@dataclasses.dataclass(frozen=True)
class ExplainConfig:
  """The explanation stage: latent space and saliency of the trained model.

  The ModelExplainer takes it as one JSON parameter (`to_json`) and the
  command line as one flag per field; the presets in pipeline/configs.py
  choose the values.

  Attributes:
    enabled: run the ModelExplainer node (`local_runner.py --no_explain`
      turns it off).
    max_embedding_images: test images embedded for the projector and the
      2-D maps; a larger split is sampled uniformly (seeded).
    tsne_max_images: points of the static t-SNE map, a seeded subsample of
      the embedded images. scikit-learn's Barnes-Hut t-SNE grows faster
      than the rest of the stage (14-34 s at 5,000 points on 2 shared
      cores; about 5 min at 20,000 with 1,000 iterations). PCA and the
      projector always use every embedded image, and the projector can run
      t-SNE on all of them in the browser.
    tsne_iterations: t-SNE optimization steps; the first 250 are its early
      exaggeration phase, so 250 is scikit-learn's minimum (its default is
      1,000; 500 took 70% of its time at 5,000 points, 36 s against 51 s,
      and the sample's maps show the same clusters).
    saliency_images_per_cohort: test images explained one by one per
      Male x Young cohort, half of them misclassified where the cohort has
      such images.
    saliency_average_images_per_cohort: test images whose maps are averaged
      per cohort (0: no averages figure). Single maps are noisy; the faces
      are aligned, so the average shows the regions a cohort is judged by.
      Each image costs as much as one explained alone (about 0.3 s at
      96 px, 5 s at 224 px on a 2-core CPU); 16 a cohort took most of the
      stage's time on the sample, and the average settles by 8.
    integrated_gradients_steps: steps along the Integrated Gradients path;
      the cost is one forward and backward pass per step, per image and
      output. The stage records how far each map's sum is from the
      prediction change it explains (IG's completeness gap).
    seed: seeds every sampling and t-SNE, so a rerun draws the same images.
  """
  enabled: bool = True
  max_embedding_images: int = 2000
  tsne_max_images: int = 5000
  tsne_iterations: int = 500
  saliency_images_per_cohort: int = 2
  saliency_average_images_per_cohort: int = 8
  integrated_gradients_steps: int = 32
  seed: int = 0

  def __post_init__(self):
    for name in ('max_embedding_images', 'tsne_max_images',
                 'integrated_gradients_steps'):
      if getattr(self, name) < 1:
        raise ValueError(f'{name} must be at least 1, got '
                         f'{getattr(self, name)}')
    for name in ('saliency_images_per_cohort',
                 'saliency_average_images_per_cohort'):
      if getattr(self, name) < 0:
        raise ValueError(f'{name} must be >= 0, got {getattr(self, name)}')
    if self.tsne_iterations < 250:
      raise ValueError('tsne_iterations must be at least 250 '
                       '(scikit-learn\'s minimum)')

  def to_json(self) -> str:
    """The component parameter: every field but `enabled`, sorted."""
    values = dataclasses.asdict(self)
    values.pop('enabled')
    return json.dumps(values, sort_keys=True)

  @classmethod
  def from_json(cls, text: str) -> 'ExplainConfig':
    values: Dict[str, Any] = json.loads(text)
    return cls(**values)
