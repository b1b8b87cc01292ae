"""Saliency, on a function with a known answer and on a tiny exported model.

The tiny model is trained here, in seconds, on generated images where only a
red square in the top-left quadrant decides `Male` and only a blue square in
the bottom-right quadrant decides `Young`. It is exported with
models.signatures.export, so the maps go through the same signatures
(`transform_jpeg`, `predict_pixels`) as the pipeline's model. The same model
also drives the whole stage (`run.explain_examples`) and the command line.
"""

import os

import io

import numpy as np
from PIL import Image
import pytest
import tensorflow as tf
import tf_keras

from components.explain import __main__ as cli
from components.explain import embeddings as embeddings_lib
from components.explain import config as explain_config
from components.explain import examples as examples_lib
from components.contracts import explanation
from components.explain import projector
from components.explain import run
from components.explain import saliency
from components.explain import served_model
from models import features
from models import signatures
from tests import example_data

SIZE = 32          # network input
PHOTO = 64         # generated JPEG side; transform_jpeg resizes to SIZE
PATCH = 16         # side of the deciding square in the photo
RED = (240, 30, 30)
BLUE = (30, 30, 240)


# ------------------------------------------------------- known-answer tests


def _linear_predict(weights: np.ndarray):
  """sigmoid(sum(w * x)) per output: IG's exact answer is known."""
  w = tf.constant(weights, tf.float32)

  def predict(pixels):
    logits = tf.reduce_sum(pixels * w, axis=[1, 2, 3])
    p = tf.sigmoid(logits)[:, None]
    return {'Male': p, 'Young': 1.0 - p}

  return predict


def test_maps_have_the_image_shape_and_are_finite():
  rng = np.random.default_rng(0)
  pixels = rng.uniform(-1, 1, (20, 24, 3)).astype(np.float32)
  weights = rng.normal(0, 0.05, (20, 24, 3))
  result = saliency.explain_pixels(_linear_predict(weights), pixels,
                                   ['Male', 'Young'], steps=16)
  for output in ('Male', 'Young'):
    attribution = result.outputs[output].attribution
    assert attribution.shape == pixels.shape[:2]
    assert np.isfinite(attribution).all()
  raw = saliency.integrated_gradients(_linear_predict(weights), pixels,
                                      'Male', steps=8)
  assert raw.shape == pixels.shape and np.isfinite(raw).all()


def test_signed_maps_add_up_to_the_prediction_change():
  """Completeness: pushes up and down sum to p(image) - p(baseline)."""
  rng = np.random.default_rng(1)
  pixels = rng.uniform(-1, 1, (16, 16, 3)).astype(np.float32)
  weights = np.zeros((16, 16, 3))
  weights[:8] = 0.05    # the top half pushes Male up...
  weights[8:] = -0.02   # ...the bottom half pushes it down
  pixels[:8] = np.abs(pixels[:8])
  pixels[8:] = np.abs(pixels[8:])
  result = saliency.explain_pixels(_linear_predict(weights), pixels,
                                   ['Male'], steps=64).outputs['Male']
  assert result.completeness_gap < 0.01
  assert (result.attribution[:8] > 0).all()
  assert (result.attribution[8:] < 0).all()


def test_attribution_mass_in_a_region():
  attribution = np.zeros((4, 4))
  attribution[0, 0] = 3.0
  attribution[3, 3] = -1.0
  region = np.zeros((4, 4), bool)
  region[:2, :2] = True
  assert saliency.attribution_mass(attribution, region) == pytest.approx(0.75)
  assert saliency.attribution_mass(np.zeros((2, 2)), region[:2, :2]) == 0.0


def test_images_are_chosen_per_cohort_with_errors_first():
  cohorts = ['a'] * 6 + ['b'] * 3 + ['c'] * 2
  wrong = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1], bool)
  chosen = saliency.choose_images(cohorts, wrong, 2, seed=0,
                                  cohort_order=['a', 'b', 'c', 'd'])
  assert set(chosen) == {'a', 'b', 'c'}  # no images, no entry
  assert sum(wrong[i] for i in chosen['a']) == 1
  assert len(chosen['a']) == 2
  assert not any(wrong[i] for i in chosen['b'])  # no errors to show
  assert len(chosen['b']) == 2
  assert chosen['c'] == [9, 10]  # all errors: filled from them
  assert saliency.choose_images(cohorts, wrong, 2, 0, ['a']) == {
      'a': chosen['a']}  # seeded


# ---------------------------------------------- a tiny model, exported


def _photo(rng: np.random.Generator, male: int, young: int) -> bytes:
  """A noisy, cluttered 64 px image; the squares alone decide the labels."""
  image = np.empty((PHOTO, PHOTO, 3))
  image[:] = rng.uniform(60, 190, 3)
  image += rng.normal(0, 12, image.shape)
  for _ in range(4):  # clutter in muted colours, anywhere
    y, x = rng.integers(0, PHOTO - 10, 2)
    grey = rng.uniform(40, 220)
    image[y:y + rng.integers(4, 10), x:x + rng.integers(4, 10)] = (
        grey, grey + rng.uniform(-20, 20), grey)
  half = PHOTO // 2
  if male:
    y, x = rng.integers(0, half - PATCH + 1, 2)
    image[y:y + PATCH, x:x + PATCH] = RED
  if young:
    y, x = rng.integers(half, PHOTO - PATCH + 1, 2)
    image[y:y + PATCH, x:x + PATCH] = BLUE
  buffer = io.BytesIO()
  Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(
      buffer, 'JPEG', quality=95)
  return buffer.getvalue()


def _photos(n: int, seed: int):
  rng = np.random.default_rng(seed)
  male = rng.integers(0, 2, n)
  young = rng.integers(0, 2, n)
  jpegs = [_photo(rng, m, y) for m, y in zip(male, young)]
  return jpegs, male, young


def _tiny_network() -> tf_keras.Model:
  """Same interface as models.network: `image_xf` in, an `embedding` layer,
  sigmoid heads named Male and Young."""
  inputs = tf_keras.Input((SIZE, SIZE, 3), name='image_xf')
  x = tf_keras.layers.Conv2D(12, 3, padding='same', activation='relu')(inputs)
  x = tf_keras.layers.Conv2D(16, 3, padding='same', activation='relu')(x)
  x = tf_keras.layers.MaxPooling2D(2)(x)
  x = tf_keras.layers.Conv2D(16, 3, padding='same', activation='relu')(x)
  embedding = tf_keras.layers.GlobalMaxPooling2D(name='embedding')(x)
  outputs = {label: tf_keras.layers.Dense(1, activation='sigmoid',
                                          name=label)(embedding)
             for label in features.LABEL_KEYS}
  return tf_keras.Model(inputs, outputs)


def _train(model: tf_keras.Model, pixels: tf.Tensor, labels,
           epochs: int = 10, batch_size: int = 32) -> tf_keras.Model:
  """A plain training loop. Keras' fit() would do, but its autograph
  conversion of the train step alone costs 10-30 s on a busy 2-core machine;
  this step needs no autograph (0.5 s to trace)."""
  optimizer = tf_keras.optimizers.Adam(3e-3)
  loss_fn = tf_keras.losses.BinaryCrossentropy()
  labels = {k: tf.constant(np.asarray(v, np.float32)[:, None])
            for k, v in labels.items()}

  @tf.function(autograph=False)
  def step(indices):
    x = tf.gather(pixels, indices)
    with tf.GradientTape() as tape:
      out = model(x, training=True)
      loss = tf.add_n([loss_fn(tf.gather(labels[k], indices), out[k])
                       for k in labels])
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss

  rng = np.random.default_rng(0)
  n = int(pixels.shape[0])
  for _ in range(epochs):
    order = rng.permutation(n)
    for start in range(0, n - batch_size + 1, batch_size):
      step(tf.constant(order[start:start + batch_size]))
  return model


@pytest.fixture(scope='module')
def tiny(tmp_path_factory, shared_transform):
  """(exported model dir, test jpegs, male, young); trains in seconds."""
  tf_keras.utils.set_random_seed(3)
  tmp = tmp_path_factory.mktemp('tiny')
  layer = shared_transform.transform_features_layer()
  jpegs, male, young = _photos(600, seed=0)
  pixels = layer({features.IMAGE_KEY: tf.reshape(tf.constant(jpegs), [-1, 1])})[
      'image_xf']
  model = _train(_tiny_network(), pixels, {'Male': male, 'Young': young})
  export_dir = str(tmp / 'export' / '1700000000')  # a push destination
  signatures.export(model, layer, SIZE, export_dir)
  test = _photos(48, seed=1)
  return str(tmp / 'export'), test


def test_tiny_model_learned_the_squares(tiny):
  model_dir, (jpegs, male, young) = tiny
  model = served_model.ServedModel(model_dir)
  faces = examples_lib.Faces([f'{i}' for i in range(len(jpegs))], jpegs,
                             {'Male': male, 'Young': young})
  embedded = embeddings_lib.embed(model, faces, batch_size=16)
  assert (embedded.predicted('Male') == male).mean() >= 0.9
  assert (embedded.predicted('Young') == young).mean() >= 0.9
  assert embedded.vectors.shape == (len(jpegs), 16)


def test_attribution_mass_falls_in_the_deciding_quadrant(tiny):
  """Through transform_jpeg and predict_pixels, as the pipeline does it."""
  model_dir, (jpegs, male, young) = tiny
  model = served_model.ServedModel(model_dir)
  half = SIZE // 2
  quadrant = {'Male': np.zeros((SIZE, SIZE), bool),
              'Young': np.zeros((SIZE, SIZE), bool)}
  quadrant['Male'][:half, :half] = True
  quadrant['Young'][half:, half:] = True
  for output, labels in (('Male', male), ('Young', young)):
    positives = [j for j, v in zip(jpegs, labels) if v][:8]
    pixels = model.pixels(positives)
    shares = []
    for image in pixels:
      result = saliency.explain_pixels(model.predict_pixels, image, [output],
                                       steps=32).outputs[output]
      assert result.attribution.shape == (SIZE, SIZE)
      assert np.isfinite(result.attribution).all()
      shares.append(saliency.attribution_mass(result.attribution,
                                              quadrant[output]))
    # The quadrant is a quarter of the image; it holds most of the mass.
    assert np.mean(shares) > 0.6, (output, shares)
    assert np.median(shares) > 0.5, (output, shares)


def _write_examples(path: str, jpegs, male, young) -> str:
  examples = [{features.IMAGE_KEY: [j], features.IMAGE_ID_KEY: [
      f'{i:06d}.jpg'.encode()], features.MALE_KEY: [int(m)],
               features.YOUNG_KEY: [int(y)]}
              for i, (j, m, y) in enumerate(zip(jpegs, male, young))]
  return example_data.write_gzip_tfrecord(path, examples)


def test_the_whole_stage_on_the_tiny_model(tiny, tmp_path):
  model_dir, (jpegs, male, young) = tiny
  files = [_write_examples(str(tmp_path / 'test' / 'data.gz'), jpegs, male,
                           young)]
  out = str(tmp_path / 'explained')
  config = explain_config.ExplainConfig(max_embedding_images=40,
                                        tsne_max_images=30, tsne_iterations=250,
                                        saliency_images_per_cohort=1,
                                        saliency_average_images_per_cohort=2,
                                        integrated_gradients_steps=8)
  document = run.explain_examples(model_dir, files, out, config, pushed=True)
  assert document == explanation.read_document(out)
  assert document['pushed'] is True
  assert document['model_uri'].endswith('1700000000')  # the latest push
  assert document['num_examples'] == 48 and document['num_embedded'] == 40
  sections = [f['section'] for f in document['figures']]
  assert sections.count(explanation.LATENT_SPACE) == 2  # PCA and t-SNE
  saliency_files = [f['file'] for f in document['figures']
                    if f['section'] == explanation.SALIENCY]
  # The averages figure and one figure per cohort present in the sample.
  assert len(saliency_files) == 1 + len(set(
      examples_lib.cohorts_of(male[:48], young[:48])))
  assert all('saliency' in os.path.basename(f) and f.endswith('.png')
             for f in saliency_files)
  for figure in document['figures']:
    with Image.open(os.path.join(out, figure['file'])) as image:
      assert image.format == 'PNG' and min(image.size) > 100
  assert document['maps']['tsne']['points'] == 30
  assert set(document['timings']) >= {'embed', 'tsne', 'saliency'}
  assert document['config']['integrated_gradients_steps'] == 8
  with open(os.path.join(out, run.PROJECTOR_DIR,
                         projector.METADATA_FILE)) as f:
    assert len(f.read().splitlines()) == 41
  arrays = np.load(os.path.join(out, run.SALIENCY_DIR, run.SALIENCY_ARRAYS))
  assert arrays['Male_attribution'].shape[1:] == (SIZE, SIZE)
  # Captions say what the numbers are: the change from grey, what the map
  # sums to, and this figure's completeness gap.
  records = document['saliency']['images']
  for figure in document['figures']:
    if figure['title'].startswith('Saliency: '):
      cohort = figure['title'][len('Saliency: '):]
      gap = max(o['completeness_gap'] for r in records
                if r['cohort'] == cohort for o in r['outputs'].values())
      assert 'summed pushes' not in figure['caption']
      assert f'completeness gap, here at most {gap:.2f}' in figure['caption']
      flagged = [r['image_id'] for r in records if r['cohort'] == cohort
                 and r['possible_label_noise']]
      assert all(i in figure['caption'] for i in flagged)
  (averages,) = [f for f in document['figures']
                 if f['title'] == 'Saliency averaged per cohort']
  base = document['saliency']['averages']
  assert set(base) == set(document['saliency']['averaged_images'])
  first = next(iter(base.values()))['baseline_probability']
  assert f'P(Male) = {first["Male"]:.2f}' in averages['caption']
  for record in records:
    for output in record['possible_label_noise']:
      p = record['outputs'][output]['probability']
      truth = record['truth'][output]
      assert (p if truth else 1 - p) <= 0.1 + 1e-9


def test_confident_errors_are_flagged_as_possible_label_noise():
  def row(probability, truth):
    result = saliency.OutputSaliency(np.zeros((2, 2)), probability, 0.5, 0.0)
    return run.overlays.Explained(
        image_id='x', cohort='', truth={'Male': truth},
        saliency=saliency.ImageSaliency(np.zeros((2, 2, 3)),
                                        {'Male': result}), aspect=1.0)
  assert row(0.05, 1).possible_label_noise() == ['Male']
  assert row(0.95, 0).possible_label_noise() == ['Male']
  assert row(0.2, 1).possible_label_noise() == []   # wrong, not confident
  assert row(0.95, 1).possible_label_noise() == []  # right
  assert row(0.05, -1).possible_label_noise() == []  # no label


def test_command_line_saliency_on_image_files(tiny, tmp_path, capsys):
  model_dir, (jpegs, _, _) = tiny
  jpeg = tmp_path / 'face.jpg'
  jpeg.write_bytes(jpegs[0])
  png = tmp_path / 'other.png'
  Image.open(io.BytesIO(jpegs[1])).save(png)
  out = tmp_path / 'out'
  assert cli.main(['saliency', '--model', model_dir, '--image', str(jpeg),
                   str(png), '--output_dir', str(out),
                   '--integrated_gradients_steps', '4']) == 0
  document = explanation.read_document(str(out))
  assert [f['file'] for f in document['figures']] == [
      'saliency/saliency_face_jpg.png', 'saliency/saliency_other_png.png']
  assert document['saliency']['steps'] == 4
  printed = capsys.readouterr().out
  assert 'saliency_face_jpg.png' in printed


def test_command_line_embeddings_and_errors(tiny, tmp_path, capsys):
  model_dir, (jpegs, male, young) = tiny
  _write_examples(str(tmp_path / 'data' / 'part.gz'), jpegs[:12], male[:12],
                  young[:12])
  out = tmp_path / 'out'
  assert cli.main(['embeddings', '--model', model_dir, '--examples',
                   str(tmp_path / 'data' / '*.gz'), '--output_dir', str(out),
                   '--integrated_gradients_steps', '4',
                   '--saliency_average_images_per_cohort', '0',
                   '--saliency_images_per_cohort', '1']) == 0
  document = explanation.read_document(str(out))
  assert document['num_embedded'] == 12
  assert 'tensorboard --logdir' in capsys.readouterr().out
  assert cli.main(['saliency', '--model', str(tmp_path / 'nothing'),
                   '--image', str(tmp_path / 'x.jpg'), '--output_dir',
                   str(out)]) == 2
  assert 'no SavedModel' in capsys.readouterr().err
