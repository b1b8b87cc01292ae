"""Static 2-D maps of the latent space, coloured by truth and by prediction.

Two projections of the embeddings, both from scikit-learn:

* PCA: linear and exact; distances along its axes mean something, and it
  shows whether the two attributes are separable directions at all.
* t-SNE: non-linear; keeps neighbourhoods, so clusters of faces the model
  treats alike (e.g. misclassified 'Non-Young x Female' faces among the
  'Young' ones) show up even when no straight direction separates them.

Why t-SNE from scikit-learn and not UMAP: scikit-learn is already a
dependency of this stack (pinned in setup.py and known to install with TFX
1.16), well kept, and its Barnes-Hut t-SNE handles the sample in seconds.
UMAP would add umap-learn, numba and llvmlite, whose numpy bounds fight the
pinned TFX stack, for a map that reads much the same. Barnes-Hut t-SNE grows
about as n log n and is the slow part of the stage at CelebA's 20,000 test
images, so it runs on a seeded subsample (ExplainConfig.tsne_max_images),
after PCA to 50 dimensions (the usual pre-reduction: it denoises and speeds
the neighbour search). PCA and the projector always use every embedded image.

Each figure is a grid: one row per output (Male, Young) and three panels:
the ground truth, the predicted probability, and the misclassified faces
coloured by their Male x Young cohort, which is where bias shows.
"""

import dataclasses
from typing import Dict, Optional, Sequence

import numpy as np
from matplotlib import colors as mpl_colors
from matplotlib.figure import Figure
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from components.explain import embeddings as embeddings_lib
from components.explain import examples
from models import features

PCA_DIMS_BEFORE_TSNE = 50
MIN_TSNE_POINTS = 5

# Colour-blind-safe (Okabe-Ito) colours; no pink/blue gender coding.
VALUE_COLOURS = {1: '#E69F00', 0: '#009E73', -1: '#BBBBBB'}
COHORT_COLOURS = dict(zip(features.cohort_names(),
                          ['#D55E00', '#CC79A7', '#0072B2', '#56B4E9']))
UNKNOWN_COLOUR = '#BBBBBB'


@dataclasses.dataclass
class Map2D:
  """2-D coordinates of some embedded faces.

  Attributes:
    method: 'pca' or 'tsne'.
    coords: [m, 2] float32.
    indices: [m] rows of the embedded set the coordinates belong to.
    note: how the map was made, for the caption.
  """
  method: str
  coords: np.ndarray
  indices: np.ndarray
  note: str


def pca_map(vectors: np.ndarray) -> Map2D:
  """The first two principal components of every vector."""
  n = len(vectors)
  if n < 2:
    coords = np.zeros((n, 2), np.float32)
    return Map2D('pca', coords, np.arange(n), 'PCA needs two or more images')
  pca = PCA(n_components=2, svd_solver='auto', random_state=0)
  coords = pca.fit_transform(vectors.astype(np.float64)).astype(np.float32)
  var = pca.explained_variance_ratio_
  return Map2D('pca', coords, np.arange(n),
               f'PCA of all {n} embeddings; the two components explain '
               f'{var[0]:.0%} and {var[1]:.0%} of the variance')


def subsample(n: int, max_points: int, seed: int) -> np.ndarray:
  """Sorted seeded uniform sample of row indices (all rows if n fits)."""
  if n <= max_points:
    return np.arange(n)
  rng = np.random.default_rng([seed, 2])
  return np.sort(rng.choice(n, size=max_points, replace=False))


def tsne_map(vectors: np.ndarray, max_points: int, iterations: int,
             seed: int) -> Optional[Map2D]:
  """Barnes-Hut t-SNE of (a subsample of) the vectors; None if too few."""
  indices = subsample(len(vectors), max_points, seed)
  m = len(indices)
  if m < MIN_TSNE_POINTS:
    return None
  x = vectors[indices].astype(np.float64)
  dims = min(PCA_DIMS_BEFORE_TSNE, m - 1, x.shape[1])
  if dims < x.shape[1]:
    x = PCA(n_components=dims, random_state=seed).fit_transform(x)
  # Perplexity must stay below the number of points; 30 is the usual value.
  perplexity = float(min(30.0, max(2.0, (m - 1) / 3.0)))
  tsne = TSNE(n_components=2, perplexity=perplexity, init='pca',
              learning_rate='auto', max_iter=iterations, random_state=seed)
  coords = tsne.fit_transform(x).astype(np.float32)
  sampled = (f'a random {m} of {len(vectors)}' if m < len(vectors)
             else f'all {m}')
  return Map2D('tsne', coords, indices,
               f't-SNE (scikit-learn, perplexity {perplexity:.0f}, '
               f'{iterations} iterations) of {sampled} embeddings after PCA '
               f'to {dims} dimensions')


def _point_size(m: int) -> float:
  return float(np.clip(3000.0 / max(m, 1), 2.0, 25.0))


def _legend(ax, handles_labels: Dict[str, str], title: str) -> None:
  from matplotlib.lines import Line2D  # pylint: disable=g-import-not-at-top
  handles = [Line2D([], [], marker='o', linestyle='', color=c, label=label,
                    markersize=6) for label, c in handles_labels.items()]
  ax.legend(handles=handles, title=title, fontsize=7, title_fontsize=7,
            loc='best', framealpha=0.8)


def plot_map(map2d: Map2D, faces: examples.Faces,
             embedded: embeddings_lib.Embedded, title: str,
             seed: int = 0) -> Figure:
  """Rows: outputs; columns: truth, predicted probability, errors by cohort."""
  outputs_order = [
      k for k in features.LABEL_KEYS if k in embedded.probabilities
  ]
  idx = map2d.indices
  # Draw in a random order so that no class systematically hides another.
  order = np.random.default_rng([seed, 3]).permutation(len(idx))
  xy = map2d.coords[order]
  rows = idx[order]
  cohorts = np.array(faces.cohorts(), dtype=object)[rows]
  size = _point_size(len(rows))
  figure = Figure(figsize=(13.5, 4.3 * len(outputs_order)),
                  layout='constrained')
  axes = figure.subplots(len(outputs_order), 3, squeeze=False)
  for r, output in enumerate(outputs_order):
    truth = faces.labels[output][rows]
    probability = embedded.probabilities[output][rows]
    wrong = (truth >= 0) & (embedded.predicted(output)[rows] != truth)
    ax_truth, ax_prob, ax_err = axes[r]

    ax_truth.scatter(xy[:, 0], xy[:, 1], s=size, linewidths=0,
                     c=[VALUE_COLOURS[int(v)] for v in truth])
    labels = {features.VALUE_NAMES[output][v]: VALUE_COLOURS[v]
              for v in (1, 0)}
    if (truth < 0).any():
      labels['unknown'] = VALUE_COLOURS[-1]
    _legend(ax_truth, labels, 'truth')
    ax_truth.set_title(f'{output}: ground truth', fontsize=10)

    points = ax_prob.scatter(xy[:, 0], xy[:, 1], s=size, linewidths=0,
                             c=probability, cmap='coolwarm',
                             norm=mpl_colors.Normalize(0.0, 1.0))
    bar = figure.colorbar(points, ax=ax_prob, shrink=0.8)
    bar.set_label(f'P({features.VALUE_NAMES[output][1]})', fontsize=8)
    ax_prob.set_title(f'{output}: predicted probability', fontsize=10)

    ax_err.scatter(xy[~wrong, 0], xy[~wrong, 1], s=size, linewidths=0,
                   c='#DDDDDD')
    counts = {}
    for cohort, colour in list(COHORT_COLOURS.items()) + [
        ('unknown', UNKNOWN_COLOUR)]:
      members = cohorts == cohort
      if not members.any():
        continue
      hit = wrong & members
      if hit.any():
        ax_err.scatter(xy[hit, 0], xy[hit, 1], s=size * 2.5, linewidths=0,
                       c=colour)
      counts[f'{cohort}: {int(hit.sum())}/{int(members.sum())}'] = colour
    _legend(ax_err, counts, 'wrong / in cohort')
    ax_err.set_title(f'{output}: misclassified, by cohort '
                     f'({int(wrong.sum())} of {len(rows)})', fontsize=10)
    for ax in axes[r]:
      ax.set_xticks([])
      ax.set_yticks([])
  figure.suptitle(title, fontsize=12)
  return figure


def coordinates_arrays(maps: Sequence[Map2D]) -> Dict[str, np.ndarray]:
  """Arrays to save beside the figures, for reports that draw their own."""
  result = {}
  for m in maps:
    result[f'{m.method}_coords'] = m.coords
    result[f'{m.method}_indices'] = m.indices
  return result
