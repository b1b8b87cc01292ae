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

Parameters: `config`, the whole ExplainConfig as JSON (config.py), and
`code_digest`, a digest of this package's source: a python function
component's cache key does not cover its code, so without it an edited
explanation stage would be served from the cache.
"""

import os

from absl import logging
import tensorflow as tf
from tfx.dsl.component.experimental.annotations import InputArtifact
from tfx.dsl.component.experimental.annotations import OutputArtifact
from tfx.dsl.component.experimental.annotations import Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils
from tfx.types import standard_artifacts

from components import artifacts
from components.contracts import push_record
from components.explain import config as config_lib
from components.explain import examples as examples_lib
from components.explain import run

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


@component
def ModelExplainer(  # pylint: disable=invalid-name
    model: InputArtifact[standard_artifacts.Model],
    examples: InputArtifact[standard_artifacts.Examples],
    pushed_model: InputArtifact[standard_artifacts.PushedModel],
    explanation: OutputArtifact[artifacts.ModelExplanation],
    config: Parameter[str],
    split: Parameter[str] = 'test',
    code_digest: Parameter[str] = ''):
  """Embeds the test split, maps it in 2-D, explains sampled faces."""
  del code_digest  # only part of the cache key
  push = push_record.read(pushed_model)
  split_dir = artifact_utils.get_split_uri([examples], split)
  files = examples_lib.list_files([split_dir])
  tf.io.gfile.makedirs(explanation.uri)
  document = run.explain_examples(
      model.uri, files, explanation.uri, config_lib.ExplainConfig.from_json(
          config), pushed=push.pushed,
      extra={'split': split, 'pushed_destination': push.destination or None,
             'model_artifact_uri': model.uri})
  explanation.set_int_custom_property('pushed', int(push.pushed))
  explanation.set_int_custom_property('num_embedded', document['num_embedded'])
  explanation.set_int_custom_property('num_figures', len(document['figures']))
  explanation.set_float_custom_property('seconds', document['seconds'])
  logging.info('ModelExplainer: %d figures in %s (%.1f s); projector: %s',
               len(document['figures']), explanation.uri, document['seconds'],
               document['projector']['tensorboard'])
