"""ModelExplainer: the explanation stage as a TFX component.

Inputs, and why each:

* `model` (the Trainer's Model): the candidate itself. It is explained
  whether or not it was pushed: a model the Evaluator refused for failing a
  cohort floor is exactly the one whose latent space and saliency a user
  needs to see to debug the bias, and a pushed model is byte-for-byte this
  artifact's SavedModel anyway.
* `examples` (ImportExampleGen's Examples): the test split, the split the
  Evaluator judged, so the maps and saliency show the same faces as the
  per-cohort metrics.
* `pushed_model` (the Pusher's PushedModel): whether the candidate was
  pushed and where, recorded in explanation.json and as custom properties.
  It also orders the node after the Pusher, so explaining (tens of seconds)
  never delays a push.

Output: a `ModelExplanation` folder (see components/explain/__init__.py for
its files); its `explanation.json` is what the HTML report reads.

Parameters mirror pipeline.configs.ExplainConfig field by field. The
`code_digest` parameter is a digest of this package's source: a python
function component's cache key does not cover its code, so without it an
edited explanation stage would be served from the cache.
"""

import os

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

import dataclasses  # pylint: disable=g-import-not-at-top
from typing import Dict

from absl import logging
import tensorflow as tf
from tfx.dsl.component.experimental.annotations import InputArtifact
from tfx.dsl.component.experimental.annotations import OutputArtifact
from tfx.dsl.component.experimental.annotations import Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils
from tfx.types import standard_artifacts

from components import artifacts
from components.explain import examples as examples_lib
from components.explain import run
from pipeline import configs

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def parameters(config: configs.ExplainConfig) -> Dict[str, object]:
  """The component's parameters for an ExplainConfig (all but `enabled`)."""
  values = dataclasses.asdict(config)
  values.pop('enabled')
  return values


def pushed_state(pushed_model: standard_artifacts.PushedModel):
  """(pushed, destination) as the Pusher recorded them."""
  pushed = bool(pushed_model.get_int_custom_property('pushed'))
  destination = pushed_model.get_string_custom_property('pushed_destination')
  return pushed, (destination or None)


@component
def ModelExplainer(  # pylint: disable=invalid-name
    model: InputArtifact[standard_artifacts.Model],
    examples: InputArtifact[standard_artifacts.Examples],
    pushed_model: InputArtifact[standard_artifacts.PushedModel],
    explanation: OutputArtifact[artifacts.ModelExplanation],
    split: Parameter[str] = 'test',
    max_embedding_images: Parameter[int] = 2000,
    tsne_max_images: Parameter[int] = 5000,
    tsne_iterations: Parameter[int] = 500,
    saliency_images_per_cohort: Parameter[int] = 2,
    saliency_average_images_per_cohort: Parameter[int] = 16,
    integrated_gradients_steps: Parameter[int] = 32,
    seed: Parameter[int] = 0,
    code_digest: Parameter[str] = ''):
  """Embeds the test split, maps it in 2-D, explains sampled faces."""
  del code_digest  # only part of the cache key
  config = configs.ExplainConfig(
      max_embedding_images=max_embedding_images,
      tsne_max_images=tsne_max_images,
      tsne_iterations=tsne_iterations,
      saliency_images_per_cohort=saliency_images_per_cohort,
      saliency_average_images_per_cohort=saliency_average_images_per_cohort,
      integrated_gradients_steps=integrated_gradients_steps,
      seed=seed)
  pushed, destination = pushed_state(pushed_model)
  split_dir = artifact_utils.get_split_uri([examples], split)
  files = examples_lib.list_files([split_dir])
  tf.io.gfile.makedirs(explanation.uri)
  document = run.explain_examples(
      model.uri, files, explanation.uri, config, pushed=pushed,
      extra={'split': split, 'pushed_destination': destination,
             'model_artifact_uri': model.uri})
  explanation.set_int_custom_property('pushed', int(pushed))
  explanation.set_int_custom_property('num_embedded', document['num_embedded'])
  explanation.set_int_custom_property('num_figures', len(document['figures']))
  explanation.set_float_custom_property('seconds', document['seconds'])
  logging.info('ModelExplainer: %d figures in %s (%.1f s); projector: %s',
               len(document['figures']), explanation.uri, document['seconds'],
               document['projector']['tensorboard'])
