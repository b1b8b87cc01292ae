"""The latent-space files: TensorBoard's projector format, 2-D maps, sampling,
the explanation.json contract and the stage's config. Fast: no model."""

import os

import io
import math

from google.protobuf import text_format
import numpy as np
from PIL import Image
import pytest
from tensorboard.plugins import projector as tb_projector
from tensorboard.plugins.projector import projector_plugin
from tensorboard.plugins.base_plugin import TBContext
from werkzeug.test import Client
from werkzeug.wrappers import Response

from components.explain import embeddings as embeddings_lib
from components.explain import config as explain_config
from components.explain import examples as examples_lib
from components.contracts import explanation
from components.explain import maps
from components.explain import projector
from components.explain import served_model
from models import features
from tests import example_data
from pipeline import configs
from components.contracts import metric_names


def _faces_and_embedded(n: int, dims: int = 7, seed: int = 0):
  rng = np.random.default_rng(seed)
  jpegs = [example_data.random_jpeg(rng) for _ in range(n)]
  male = rng.integers(0, 2, n)
  young = rng.integers(0, 2, n)
  faces = examples_lib.Faces([f'{i + 1:06d}.jpg' for i in range(n)], jpegs,
                             {'Male': male, 'Young': young})
  embedded = embeddings_lib.Embedded(
      vectors=rng.normal(size=(n, dims)).astype(np.float32),
      probabilities={'Male': rng.uniform(size=n).astype(np.float32),
                     'Young': rng.uniform(size=n).astype(np.float32)})
  return faces, embedded


@pytest.fixture(scope='module')
def written(tmp_path_factory):
  folder = str(tmp_path_factory.mktemp('projector'))
  faces, embedded = _faces_and_embedded(10)
  files = projector.write_projector(folder, faces, embedded)
  return folder, faces, embedded, files


def _config(folder: str) -> tb_projector.ProjectorConfig:
  with open(os.path.join(folder, projector.CONFIG_FILE)) as f:
    return text_format.Parse(f.read(), tb_projector.ProjectorConfig())


def test_config_parses_with_tensorboards_proto(written):
  folder, _, _, files = written
  config = _config(folder)
  assert len(config.embeddings) == 1
  embedding = config.embeddings[0]
  assert embedding.tensor_name == projector.TENSOR_NAME
  for path in (embedding.tensor_path, embedding.metadata_path,
               embedding.sprite.image_path):
    assert not os.path.isabs(path)  # relative to the config: folder moves
    assert os.path.isfile(os.path.join(folder, path))
  assert list(embedding.tensor_shape) == [10, 7]
  assert list(embedding.sprite.single_image_dim) == list(files.single_image_dim)


def test_tensor_rows_and_dims_match_the_config(written):
  folder, _, embedded, _ = written
  embedding = _config(folder).embeddings[0]
  # TensorBoard's own reader for tensor files.
  tensor = projector_plugin._read_tensor_tsv_file(  # pylint: disable=protected-access
      os.path.join(folder, embedding.tensor_path))
  assert list(tensor.shape) == list(embedding.tensor_shape)
  np.testing.assert_allclose(tensor, embedded.vectors, rtol=1e-3, atol=1e-4)


def test_metadata_is_one_header_line_plus_a_row_per_vector(written):
  folder, faces, embedded, _ = written
  embedding = _config(folder).embeddings[0]
  with open(os.path.join(folder, embedding.metadata_path)) as f:
    lines = f.read().splitlines()
  assert len(lines) == embedding.tensor_shape[0] + 1
  header = lines[0].split('\t')
  for column in ('image_id', 'Male_true', 'Male_pred', 'Young_true',
                 'Young_pred', 'cohort'):
    assert column in header
  rows = [line.split('\t') for line in lines[1:]]
  assert all(len(r) == len(header) for r in rows)
  first = dict(zip(header, rows[0]))
  assert first['image_id'] == '000001.jpg'
  male = int(faces.labels['Male'][0])
  young = int(faces.labels['Young'][0])
  assert first['Male_true'] == features.VALUE_NAMES['Male'][male]
  assert first['cohort'] == features.cohort_name(male, young)
  assert first['Male_pred'] == features.VALUE_NAMES['Male'][
      int(embedded.probabilities['Male'][0] >= 0.5)]
  assert float(first['Young_prob']) == pytest.approx(
      embedded.probabilities['Young'][0], abs=1e-4)


def test_sprite_is_a_square_grid_of_single_image_dim(written):
  folder, faces, _, _ = written
  embedding = _config(folder).embeddings[0]
  w, h = embedding.sprite.single_image_dim
  per_side = math.ceil(math.sqrt(len(faces)))
  with Image.open(os.path.join(folder, embedding.sprite.image_path)) as sprite:
    assert sprite.size == (w * per_side, h * per_side)
  assert w / h == pytest.approx(178 / 218, abs=0.03)  # CelebA's aspect


def test_sprite_fits_the_browsers_texture_at_celeba_scale():
  for n in (1, 300, 20_000, 100_000):
    w, h = projector.thumbnail_size(n, 178 / 218)
    per_side = math.ceil(math.sqrt(n))
    assert per_side * max(w, h) <= projector.SPRITE_MAX_SIDE
    assert w >= 1 and h >= 1


def test_tensorboards_projector_plugin_serves_the_files(written):
  """The plugin itself, pointed at the folder as a log directory."""
  folder, faces, _, _ = written
  plugin = projector_plugin.ProjectorPlugin(
      TBContext(logdir=folder, data_provider=None))
  apps = plugin.get_plugin_apps()

  def get(route, **query):
    client = Client(apps[route], Response)
    response = client.get(route, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response

  assert get('/runs').get_json() == ['.']
  config = get('/info', run='.').get_json()
  assert config['embeddings'][0]['tensorShape'] == [10, 7]
  tensor = np.frombuffer(get('/tensor', run='.', name='embedding').get_data(),
                         np.float32)
  assert tensor.size == 10 * 7
  metadata = get('/metadata', run='.', name='embedding').get_data(as_text=True)
  assert len(metadata.splitlines()) == len(faces) + 1
  sprite = get('/sprite_image', run='.', name='embedding').get_data()
  assert Image.open(io.BytesIO(sprite)).format == 'JPEG'


def test_unknown_labels_are_written_as_unknown():
  faces, embedded = _faces_and_embedded(3)
  faces.labels['Young'][:] = examples_lib.UNKNOWN
  header, rows = projector.metadata_rows(faces, embedded)
  row = dict(zip(header, rows[0]))
  assert row['Young_true'] == 'unknown'
  assert row['Young_correct'] == ''
  assert row['cohort'] == 'unknown'


def test_predictions_use_the_evaluators_decision_threshold():
  threshold = metric_names.DECISION_THRESHOLD
  embedded = embeddings_lib.Embedded(
      vectors=np.zeros((3, 2), np.float32),
      probabilities={'Male': np.array([threshold - 1e-3, threshold,
                                       threshold + 1e-3], np.float32)})
  # TFMA's BinaryAccuracy counts a prediction as positive above the
  # threshold, not at it.
  assert embedded.predicted('Male').tolist() == [0, 0, 1]


# ------------------------------------------------------------------ maps


def test_pca_and_tsne_maps():
  faces, embedded = _faces_and_embedded(60, dims=20)
  pca = maps.pca_map(embedded.vectors)
  assert pca.coords.shape == (60, 2) and np.isfinite(pca.coords).all()
  tsne = maps.tsne_map(embedded.vectors, max_points=40, iterations=250, seed=0)
  assert tsne.coords.shape == (40, 2) and len(set(tsne.indices)) == 40
  assert np.isfinite(tsne.coords).all()
  again = maps.tsne_map(embedded.vectors, max_points=40, iterations=250,
                        seed=0)
  np.testing.assert_array_equal(tsne.indices, again.indices)  # seeded
  assert maps.tsne_map(embedded.vectors[:3], 40, 250, 0) is None
  figure = maps.plot_map(tsne, faces, embedded, 'title')
  assert len(figure.axes) >= 6  # 2 outputs x (truth, probability, errors)


# ------------------------------------------------------- examples, sampling


def test_reservoir_sample_is_uniform_seeded_and_ordered():
  items = [bytes([i]) for i in range(50)]
  positions, chosen, total = examples_lib.reservoir_sample(
      iter(items), 10, np.random.default_rng(0))
  assert total == 50 and len(chosen) == 10
  assert positions == sorted(positions)
  assert chosen == [items[p] for p in positions]
  again = examples_lib.reservoir_sample(iter(items), 10,
                                        np.random.default_rng(0))
  assert again[0] == positions
  assert examples_lib.reservoir_sample(iter(items[:3]), 10,
                                       np.random.default_rng(0))[2] == 3
  counts = np.zeros(50)
  rng = np.random.default_rng(1)
  for _ in range(2000):
    counts[examples_lib.reservoir_sample(iter(items), 10, rng)[0]] += 1
  assert counts.min() > 300 and counts.max() < 500  # expected 400 each


def test_read_faces_from_gzip_tfrecords(tmp_path):
  examples = example_data.raw_examples(7, seed=2)
  for i, e in enumerate(examples):
    e[features.IMAGE_ID_KEY] = [f'{i:06d}.jpg'.encode()]
  del examples[3][features.IMAGE_ID_KEY]
  del examples[4][features.YOUNG_KEY]
  example_data.write_gzip_tfrecord(str(tmp_path / 'test' / 'a.gz'), examples)
  files = examples_lib.list_files([str(tmp_path / 'test')])
  faces, total = examples_lib.read_faces(files, max_images=100, seed=0)
  assert total == 7 and len(faces) == 7
  assert faces.image_ids[0] == '000000.jpg' and faces.image_ids[3] == '#3'
  assert faces.labels['Young'][4] == examples_lib.UNKNOWN
  assert faces.cohorts()[4] == 'unknown'
  sample, total = examples_lib.read_faces(files, max_images=3, seed=0)
  assert len(sample) == 3 and total == 7
  with pytest.raises(FileNotFoundError):
    examples_lib.list_files([str(tmp_path / 'nothing*')])


def test_non_jpeg_images_are_converted_for_the_serving_preprocessing():
  jpeg = example_data.random_jpeg(np.random.default_rng(0), 20, 30)
  assert examples_lib.as_jpeg(jpeg) is jpeg
  png = io.BytesIO()
  Image.open(io.BytesIO(jpeg)).save(png, 'PNG')
  converted = examples_lib.as_jpeg(png.getvalue())
  assert Image.open(io.BytesIO(converted)).format == 'JPEG'
  assert examples_lib.image_aspect(converted) == pytest.approx(20 / 30)


def test_model_dirs_resolve_like_the_pipeline_lays_them_out(tmp_path):
  saved = tmp_path / 'plain'
  saved.mkdir()
  (saved / 'saved_model.pb').write_bytes(b'')
  trainer = tmp_path / 'trainer' / 'Format-Serving'
  trainer.mkdir(parents=True)
  (trainer / 'saved_model.pb').write_bytes(b'')
  for push in ('9', '10', 'tmp'):
    (tmp_path / 'pushes' / push).mkdir(parents=True)
    (tmp_path / 'pushes' / push / 'saved_model.pb').write_bytes(b'')
  assert served_model.resolve_model_dir(str(saved)) == str(saved)
  assert served_model.resolve_model_dir(str(tmp_path / 'trainer')) == str(
      trainer)
  assert served_model.resolve_model_dir(str(tmp_path / 'pushes')).endswith(
      os.path.join('pushes', '10'))  # numerically latest
  with pytest.raises(served_model.ModelNotFoundError):
    served_model.resolve_model_dir(str(tmp_path))


# ------------------------------------------------- contract and config


def _document(**changes):
  document = {'model_uri': '/m', 'pushed': False, 'seconds': 1.5,
              'figures': [{'file': 'maps/a.png', 'section': 'Latent space',
                           'title': 't', 'caption': 'c'}]}
  document.update(changes)
  return document


def test_explanation_contract(tmp_path):
  explanation.validate(_document())
  bad = [
      _document(pushed=1),
      _document(seconds=2),
      {k: v for k, v in _document().items() if k != 'model_uri'},
      _document(figures=[{'file': '/abs.png', 'section': 'Saliency',
                          'title': 't', 'caption': 'c'}]),
      _document(figures=[{'file': 'a.png', 'section': 'Other',
                          'title': 't', 'caption': 'c'}]),
      _document(figures=[{'file': 'a.png', 'section': 'Saliency',
                          'title': 't'}]),
  ]
  for document in bad:
    with pytest.raises(ValueError):
      explanation.validate(document)
  with pytest.raises(ValueError, match='missing'):
    explanation.write(
        str(tmp_path), model_uri='/m', pushed=True, seconds=1.0,
        figures=[explanation.FigureEntry('maps/none.png', 'Saliency', 't',
                                         'c')])
  (tmp_path / 'maps').mkdir()
  (tmp_path / 'maps' / 'a.png').write_bytes(b'png')
  written = explanation.write(
      str(tmp_path), model_uri='/m', pushed=True, seconds=1.0,
      figures=[explanation.FigureEntry('maps/a.png', 'Latent space', 't',
                                       'c')], extra_key=3)
  assert explanation.read_document(str(tmp_path)) == written
  assert written['extra_key'] == 3


def test_explain_config_checks_its_knobs():
  explain_config.ExplainConfig()
  with pytest.raises(ValueError):
    explain_config.ExplainConfig(max_embedding_images=0)
  with pytest.raises(ValueError):
    explain_config.ExplainConfig(tsne_iterations=100)
  with pytest.raises(ValueError):
    explain_config.ExplainConfig(saliency_images_per_cohort=-1)
  # CelebA's 1,280-wide pooled features (mostly in [0, 1)) as the projector's
  # text keep the explanation under 50 MB, sprite and maps included.
  sample = np.random.default_rng(0).uniform(0, 1, (50, 1280))
  per_face = len(projector.vectors_tsv(sample)) / 50
  assert configs.CELEBA.explain.max_embedding_images * per_face < 40 * 2**20
