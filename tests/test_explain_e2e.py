"""End-to-end: the default `python local_runner.py` run explains its model.

Reads the session's `default_run` (tests/conftest.py); makes no run of its
own.
"""

import os

import glob
import math

from google.protobuf import text_format
from PIL import Image
import pytest
from tensorboard.plugins import projector as tb_projector

from components import artifacts
from components.contracts import explanation
from components.explain import projector
from components.explain import run as explain_run
from models import features
from pipeline import configs
from components.contracts import run_results
from components.contracts import node_ids

pytestmark = pytest.mark.e2e


@pytest.fixture(scope='module')
def run(default_run) -> run_results.RunResult:
  """The default run itself: the first in its store (other tests rerun the
  pipeline in the same output root, and a cached rerun explains nothing)."""
  store = run_results.connect(default_run.metadata_path)
  first = run_results.run_ids(store, configs.PIPELINE_NAME)[0]
  return run_results.load_run(store, configs.PIPELINE_NAME, first)


@pytest.fixture(scope='module')
def explainer(run) -> run_results.NodeExecution:
  assert node_ids.EXPLAINER in run.nodes, sorted(run.nodes)
  return run.nodes[node_ids.EXPLAINER]


@pytest.fixture(scope='module')
def trainer_model_uri(run) -> str:
  return run.nodes[node_ids.TRAINER].output_uri('model')


def test_model_explainer_is_complete_in_mlmd(explainer, trainer_model_uri,
                                            default_run):
  assert explainer.state == 'COMPLETE'
  (artifact,) = explainer.outputs['explanation']
  store = run_results.connect(default_run.metadata_path)
  (artifact_type,) = store.get_artifact_types_by_id([artifact.type_id])
  assert artifact_type.name == artifacts.ModelExplanation.TYPE_NAME
  assert artifact.uri.startswith(default_run.pipeline_root)
  assert artifact.custom_properties['pushed'].int_value == 1
  assert set(explainer.inputs) == {'model', 'examples', 'pushed_model'}
  assert explainer.inputs['model'][0].uri == trainer_model_uri


def test_the_artifact_holds_projector_maps_and_saliency(explainer,
                                                       trainer_model_uri):
  uri = explainer.output_uri('explanation')
  document = explanation.read_document(uri)  # validates the contract
  assert document['pushed'] is True
  assert document['model_uri'].startswith(trainer_model_uri)
  assert document['split'] == 'test'
  print(f"ModelExplainer: {document['seconds']:.1f} s; steps (s): "
        f"{document['timings']}")

  # Projector: TensorBoard's format, every test image embedded.
  folder = os.path.join(uri, explain_run.PROJECTOR_DIR)
  with open(os.path.join(folder, projector.CONFIG_FILE)) as f:
    config = text_format.Parse(f.read(), tb_projector.ProjectorConfig())
  embedding = config.embeddings[0]
  n, dims = embedding.tensor_shape
  assert n == document['num_embedded'] == document['num_examples'] > 100
  assert dims == document['embedding_dim'] == 1280
  with open(os.path.join(folder, embedding.tensor_path)) as f:
    rows = f.read().splitlines()
  assert len(rows) == n and len(rows[0].split('\t')) == dims
  with open(os.path.join(folder, embedding.metadata_path)) as f:
    metadata = f.read().splitlines()
  assert len(metadata) == n + 1
  header = metadata[0].split('\t')
  for column in ('image_id', 'Male_true', 'Male_pred', 'Young_true',
                 'Young_pred', 'cohort'):
    assert column in header
  w, h = embedding.sprite.single_image_dim
  per_side = math.ceil(math.sqrt(n))
  with Image.open(os.path.join(folder, embedding.sprite.image_path)) as sprite:
    assert sprite.size == (w * per_side, h * per_side)

  # Figures: both sections, PNGs, saliency ones named so.
  sections = {f['section'] for f in document['figures']}
  assert sections == {explanation.LATENT_SPACE, explanation.SALIENCY}
  for figure in document['figures']:
    with Image.open(os.path.join(uri, figure['file'])) as image:
      assert image.format == 'PNG'
  saliency_pngs = glob.glob(os.path.join(uri, '**', '*saliency*.png'),
                            recursive=True)
  # One per cohort plus the cohort averages.
  assert len(saliency_pngs) == len(features.COHORTS) + 1
  for record in document['saliency']['images']:
    for output in features.LABEL_KEYS:
      assert math.isfinite(record['outputs'][output]['completeness_gap'])
