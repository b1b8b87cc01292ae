"""The explanation stage end to end: a model and labelled examples in, a
folder of projector files, maps, saliency figures and explanation.json out.

Both the ModelExplainer component and `python -m components.explain` call
these functions, with the knobs of an ExplainConfig (config.py), so the
pipeline's artifact and an ad-hoc run of the command are made the same way.
"""

import dataclasses
import os
import re
import time
from typing import Any, Dict, List, Optional, Sequence

from absl import logging
import numpy as np
import tensorflow as tf

from components.explain import embeddings as embeddings_lib
from components.explain import config as config_lib
from components.explain import examples as examples_lib
from components.contracts import explanation
from components.explain import maps
from components.explain import outputs
from components.explain import overlays
from components.explain import projector
from components.explain import saliency as saliency_lib
from components.explain import served_model
from models import features

PROJECTOR_DIR = 'projector'
MAPS_DIR = 'maps'
SALIENCY_DIR = 'saliency'
SALIENCY_ARRAYS = 'saliency_maps.npz'
AVERAGES_FIGURE = 'saliency_cohort_averages.png'
COORDINATES = 'coordinates.npz'


class _Timer:
  """Seconds per named step, in order."""

  def __init__(self):
    self.steps: Dict[str, float] = {}
    self._started = time.monotonic()

  def step(self, name: str, since: float, detail: str = '') -> float:
    now = time.monotonic()
    self.steps[name] = round(now - since, 3)
    logging.info('explain: %s%s took %.1f s', name,
                 f' ({detail})' if detail else '', now - since)
    return now

  @property
  def total(self) -> float:
    return time.monotonic() - self._started


class _EmbeddingProgress:
  """Logs every tenth of a long embedding pass (20,000 images: minutes)."""

  def __init__(self):
    self._tenths = 0

  def __call__(self, done: int, total: int) -> None:
    tenths = done * 10 // total
    if total >= 2000 and tenths > self._tenths:
      self._tenths = tenths
      logging.info('explain: embedded %d of %d images', done, total)


def slug(text: str) -> str:
  """'Non-Young x Male' -> 'non-young_x_male' (for file names)."""
  return re.sub(r'[^a-z0-9-]+', '_', text.lower()).strip('_') or 'image'


def _saliency_arrays(
    rows: Sequence[overlays.Explained]) -> Dict[str, np.ndarray]:
  arrays = {'image_ids': np.array([r.image_id for r in rows])}
  if rows:
    arrays['pixels'] = np.stack([r.saliency.pixels for r in rows])
    for output in rows[0].saliency.outputs:
      arrays[f'{output}_attribution'] = np.stack(
          [r.saliency.outputs[output].attribution for r in rows])
  return arrays


def _saliency_record(row: overlays.Explained, file: str) -> Dict[str, Any]:
  return {
      'image_id': row.image_id, 'cohort': row.cohort, 'file': file,
      'truth': row.truth,
      'outputs': {
          o: {'probability': round(s.probability, 6),
              'baseline_probability': round(s.baseline_probability, 6),
              'attribution_sum': round(float(s.attribution.sum()), 6),
              'completeness_gap': round(s.completeness_gap, 6)}
          for o, s in row.saliency.outputs.items()},
      'possible_label_noise': row.possible_label_noise(),
  }


def _saliency_caption(steps: int, rows: Sequence[overlays.Explained]) -> str:
  """The caption of one saliency figure, with its own completeness gap."""
  gaps = [s.completeness_gap for r in rows for s in r.saliency.outputs.values()]
  noisy = [r.image_id for r in rows if r.possible_label_noise()]
  caption = (
      'Signed Integrated Gradients (PAIR saliency library, '
      f'{steps} steps, mid-grey baseline) of each output\'s probability over '
      'the served model\'s input pixels (transform_jpeg). Red: what pushes '
      'the prediction up (towards Male / Young); blue: what pushes it down '
      '(towards Female / Non-Young). The first column shows each face as the '
      'model sees it, with its predicted probabilities, [true labels], the '
      'probability\'s change from the grey baseline (what IG divides among '
      'the pixels) and what the map actually sums to. By IG\'s completeness '
      'the two would be equal; with a finite number of steps they differ by '
      'the completeness gap, here at most '
      f'{max(gaps) if gaps else 0:.2f} (more integrated_gradients_steps '
      'narrow it).')
  if noisy:
    caption += (
        f' Flagged in red ({", ".join(noisy)}): the model contradicts the '
        f'label with at least {overlays.CONFIDENT_ERROR:.0%} confidence, '
        'which is where mislabelled faces gather (CelebA\'s labels are '
        'binary annotator judgements; the generated sample contradicts 3% '
        'of Male and 8% of Young labels on purpose): possibly label noise '
        'rather than a model error.')
  return caption


def explain_saliency(groups: Dict[str, List[overlays.Explained]],
                     output_dir: str, steps: int
                     ) -> List[explanation.FigureEntry]:
  """Draws one saliency figure per group into output_dir/saliency/."""
  figures = []
  for group, rows in groups.items():
    if not rows:
      continue
    name = f'saliency_{slug(group)}.png'
    figure = overlays.saliency_figure(
        rows, f'{group}: what pushes each prediction')
    outputs.write_figure(os.path.join(output_dir, SALIENCY_DIR, name), figure)
    figures.append(explanation.FigureEntry(
        file=f'{SALIENCY_DIR}/{name}', section=explanation.SALIENCY,
        title=f'Saliency: {group}',
        caption=_saliency_caption(steps, rows)))
  return figures


def saliency_rows(model: served_model.ServedModel, jpegs: Sequence[bytes],
                  image_ids: Sequence[str], cohorts: Sequence[str],
                  truths: Sequence[Dict[str, int]], steps: int
                  ) -> List[overlays.Explained]:
  """Computes the maps for some images through the serving preprocessing."""
  if not jpegs:
    return []
  pixels = model.pixels(jpegs)
  rows = []
  for i, jpeg in enumerate(jpegs):
    result = saliency_lib.explain_pixels(model.predict_pixels, pixels[i],
                                         model.outputs, steps)
    rows.append(overlays.Explained(
        image_id=image_ids[i], cohort=cohorts[i], truth=dict(truths[i]),
        saliency=result, aspect=examples_lib.image_aspect(jpeg)))
  return rows


def cohort_averages(model: served_model.ServedModel, faces: examples_lib.Faces,
                    cohorts: Sequence[str], per_cohort: int, steps: int,
                    seed: int) -> List[overlays.CohortAverage]:
  """Mean IG maps over a seeded sample of each cohort's images."""
  if per_cohort <= 0:
    return []
  rng = np.random.default_rng([seed, 5])
  cohorts = np.asarray(cohorts, dtype=object)
  averages = []
  for cohort in features.cohort_names():
    members = np.flatnonzero(cohorts == cohort)
    if not len(members):
      continue
    picks = np.sort(rng.choice(members, min(per_cohort, len(members)),
                               replace=False))
    jpegs = [faces.jpegs[i] for i in picks]
    pixels = model.pixels(jpegs)
    predicted = model.predict_pixels(np.concatenate(
        [pixels, np.zeros_like(pixels[:1])]))
    averages.append(overlays.CohortAverage(
        cohort=cohort, count=len(picks), mean_pixels=pixels.mean(axis=0),
        attributions={o: saliency_lib.mean_attribution(
            model.predict_pixels, pixels, o, steps) for o in model.outputs},
        aspect=examples_lib.image_aspect(jpegs[0]),
        mean_probability={o: float(np.mean(predicted[o].numpy()[:-1]))
                          for o in model.outputs},
        baseline_probability={o: float(predicted[o].numpy()[-1, 0])
                              for o in model.outputs}))
  return averages


# A cohort whose faces score within this of the grey baseline, on average,
# leaves IG little to attribute: its average map is nearly blank.
_SMALL_CHANGE = 0.15


def _averages_caption(steps: int,
                      averages: Sequence[overlays.CohortAverage]) -> str:
  """The averages' caption, saying which maps are faint and why."""
  caption = (
      'Integrated Gradients maps averaged over a random sample of each '
      f'cohort\'s test images ({steps} steps, mid-grey baseline), over the '
      'cohort\'s mean face. Red: regions that push the prediction up '
      '(towards Male / Young); blue: regions that push it down (towards '
      'Female / Non-Young); one colour scale per output across cohorts. '
      'Faces are aligned, so what one image does by chance averages out and '
      'the regions the model reads for the whole cohort remain. Each map '
      'divides only the change from the grey baseline to the face (IG\'s '
      'completeness), shown above it.')
  if not averages:
    return caption
  base = averages[0].baseline_probability
  caption += ' The grey baseline itself scores ' + ', '.join(
      f'P({features.VALUE_NAMES[o][1]}) = {p:.2f}' for o, p in base.items()
  ) + '.'
  faint = [(a.cohort, o, a.mean_probability[o], a.mean_change(o))
           for a in averages for o in a.attributions
           if abs(a.mean_change(o)) < _SMALL_CHANGE]
  if faint:
    caption += ' So ' + '; '.join(
        f'{cohort}\'s faces score P({features.VALUE_NAMES[o][1]}) '
        f'{p:.2f} on average, {change:+.2f} from grey' for cohort, o, p,
        change in faint) + (
            ': there is little to attribute, and a nearly blank map there '
            'means the face scores about what the grey image scores, not '
            'that the model reads nothing.')
  return caption


def explain_examples(model_dir: str, example_files: Sequence[str],
                     output_dir: str, config: config_lib.ExplainConfig, *,
                     pushed: bool = False,
                     extra: Optional[Dict[str, Any]] = None
                     ) -> Dict[str, Any]:
  """The whole stage on labelled TFRecords; returns explanation.json's content.

  Args:
    model_dir: a SavedModel, a Trainer Model artifact or a push folder.
    example_files: TFRecord files (GZIP if named *.gz) of tf.Examples.
    output_dir: the folder to fill (the ModelExplanation artifact's uri).
    config: sizes, steps and seed.
    pushed: whether the Pusher pushed this model (recorded only: the
      candidate is explained either way, since a model that failed its
      cohort floors is exactly the one whose errors need explaining).
    extra: more keys for explanation.json.
  """
  timer = _Timer()
  t = time.monotonic()
  model = served_model.ServedModel(model_dir)
  t = timer.step('load_model', t)

  faces, total = examples_lib.read_faces(
      example_files, config.max_embedding_images, config.seed)
  if not len(faces):
    raise ValueError(f'no examples in {list(example_files)}')
  t = timer.step('read_examples', t, f'{len(faces)} of {total}')

  embedded = embeddings_lib.embed(model, faces,
                                  progress=_EmbeddingProgress())
  t = timer.step('embed', t, f'{len(faces)} images')

  files = projector.write_projector(
      os.path.join(output_dir, PROJECTOR_DIR), faces, embedded)
  t = timer.step('projector', t)

  figures: List[explanation.FigureEntry] = []
  made = [maps.pca_map(embedded.vectors)]
  t = timer.step('pca', t)
  tsne = maps.tsne_map(embedded.vectors, config.tsne_max_images,
                       config.tsne_iterations, config.seed)
  if tsne is not None:
    made.append(tsne)
  t = timer.step('tsne', t)
  names = {'pca': 'PCA', 'tsne': 't-SNE'}
  for map2d in made:
    name = f'latent_{map2d.method}.png'
    title = f'Latent space ({names[map2d.method]})'
    outputs.write_figure(
        os.path.join(output_dir, MAPS_DIR, name),
        maps.plot_map(map2d, faces, embedded, title, config.seed))
    figures.append(explanation.FigureEntry(
        file=f'{MAPS_DIR}/{name}', section=explanation.LATENT_SPACE,
        title=title,
        caption=(f'{map2d.note}: the pooled features the two heads read '
                 '(predict_pixels\' embedding). Per output: colour by ground '
                 'truth, by predicted probability, and the misclassified '
                 'faces by Male x Young cohort (wrong/total in the legend).')))
  outputs.write_npz(os.path.join(output_dir, MAPS_DIR, COORDINATES),
                    **maps.coordinates_arrays(made))
  t = timer.step('draw_maps', t)

  cohorts = faces.cohorts()
  chosen = saliency_lib.choose_images(
      cohorts, embedded.misclassified(faces),
      config.saliency_images_per_cohort, config.seed,
      features.cohort_names())
  groups: Dict[str, List[overlays.Explained]] = {}
  for cohort, indices in chosen.items():
    groups[cohort] = saliency_rows(
        model, [faces.jpegs[i] for i in indices],
        [faces.image_ids[i] for i in indices], [cohorts[i] for i in indices],
        [{k: int(v[i]) for k, v in faces.labels.items()} for i in indices],
        config.integrated_gradients_steps)
  explained = [r for rows in groups.values() for r in rows]
  t = timer.step('saliency', t, f'{len(explained)} images')
  averages = cohort_averages(
      model, faces, cohorts, config.saliency_average_images_per_cohort,
      config.integrated_gradients_steps, config.seed)
  t = timer.step('saliency_averages', t,
                 f'{sum(a.count for a in averages)} images')
  if averages:
    outputs.write_figure(
        os.path.join(output_dir, SALIENCY_DIR, AVERAGES_FIGURE),
        overlays.average_figure(
            averages, 'What each cohort is judged by: average saliency'))
    figures.append(explanation.FigureEntry(
        file=f'{SALIENCY_DIR}/{AVERAGES_FIGURE}',
        section=explanation.SALIENCY,
        title='Saliency averaged per cohort',
        caption=_averages_caption(config.integrated_gradients_steps,
                                  averages)))
  figures += explain_saliency(groups, output_dir,
                              config.integrated_gradients_steps)
  arrays = _saliency_arrays(explained)
  for average in averages:
    for output, mean_map in average.attributions.items():
      arrays[f'average_{slug(average.cohort)}_{output}'] = mean_map
  outputs.write_npz(os.path.join(output_dir, SALIENCY_DIR, SALIENCY_ARRAYS),
                    **arrays)
  t = timer.step('draw_saliency', t)

  records = [_saliency_record(
      r, f'{SALIENCY_DIR}/saliency_{slug(r.cohort)}.png') for r in explained]
  gaps = [o['completeness_gap'] for r in records for o in r['outputs'].values()]
  document = explanation.write(
      output_dir, model_uri=model.model_dir, pushed=pushed, figures=figures,
      seconds=round(timer.total, 3),
      num_examples=total, num_embedded=len(faces),
      embedding_dim=files.dims,
      projector={'folder': PROJECTOR_DIR,
                 'config': f'{PROJECTOR_DIR}/{projector.CONFIG_FILE}',
                 'tensorboard': ('tensorboard --logdir '
                                 f'{os.path.join(output_dir, PROJECTOR_DIR)}'),
                 'single_image_dim': list(files.single_image_dim)},
      maps={m.method: {'points': int(len(m.indices)), 'note': m.note}
            for m in made},
      saliency={'method': saliency_lib.METHOD,
                'baseline': saliency_lib.BASELINE,
                'steps': config.integrated_gradients_steps,
                'max_completeness_gap': max(gaps) if gaps else None,
                'images': records,
                'averaged_images': {a.cohort: a.count for a in averages},
                'averages': {a.cohort: {
                    'count': a.count,
                    'mean_probability': a.mean_probability,
                    'baseline_probability': a.baseline_probability}
                             for a in averages}},
      timings=timer.steps,
      config=dataclasses.asdict(config),
      **(extra or {}))
  return document


def explain_image_files(model_dir: str, image_paths: Sequence[str],
                        output_dir: str, steps: int) -> Dict[str, Any]:
  """Saliency of any image files (one figure per file), for the command."""
  timer = _Timer()
  t = time.monotonic()
  model = served_model.ServedModel(model_dir)
  t = timer.step('load_model', t)
  groups: Dict[str, List[overlays.Explained]] = {}
  for path in image_paths:
    with tf.io.gfile.GFile(path, 'rb') as f:
      jpeg = examples_lib.as_jpeg(f.read())
    name = os.path.basename(path)
    group = name
    while group in groups:  # same file name in two folders
      group += "'"
    groups[group] = saliency_rows(
        model, [jpeg], [name], [''], [{}], steps)
  t = timer.step('saliency', t, f'{len(image_paths)} images')
  figures = explain_saliency(groups, output_dir, steps)
  explained = [r for rows in groups.values() for r in rows]
  outputs.write_npz(os.path.join(output_dir, SALIENCY_DIR, SALIENCY_ARRAYS),
                    **_saliency_arrays(explained))
  timer.step('draw_saliency', t)
  records = [_saliency_record(r, f.file) for r, f in zip(explained, figures)]
  return explanation.write(
      output_dir, model_uri=model.model_dir, pushed=False, figures=figures,
      seconds=round(timer.total, 3), pushed_known=False,
      saliency={'method': saliency_lib.METHOD,
                'baseline': saliency_lib.BASELINE, 'steps': steps,
                'images': records},
      timings=timer.steps)
