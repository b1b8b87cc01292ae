"""Saliency maps drawn over the faces: one figure per cohort, and one of
cohort averages.

Per-cohort figures: each row is one image; the first panel is the network's
input as served (the `transform_jpeg` pixels, shown at the original photo's
aspect ratio, since the preprocessing resizes the whole photo to a square),
then per output two panels over a faded grey copy of the face:

* red: what pushes the probability up (towards 'Male' / 'Young'),
* blue: what pushes it down (towards 'Female' / 'Non-Young').

Both panels of an output share one colour scale (the 99.5th percentile of the
map's magnitude), so their strengths compare. The averages figure has one
panel per output and cohort, red and blue together over the cohort's mean
face, one colour scale per output across cohorts.

Maps are blurred for display only (a Gaussian of 2.5% of the image side):
raw IG maps alternate sign from pixel to pixel, and what a reader looks for,
and what the blur keeps, is the net push of a region. The raw maps are saved
beside the figures (saliency_maps.npz).
"""

import dataclasses
from typing import Dict, List, Sequence

import numpy as np
from matplotlib.figure import Figure
from scipy import ndimage

from components.explain import saliency as saliency_lib
from models import features

UP_COLOUR = np.array([0.84, 0.15, 0.16])    # red
DOWN_COLOUR = np.array([0.12, 0.47, 0.71])  # blue
SCALE_PERCENTILE = 99.5
SMOOTHING = 0.025  # display blur, as a fraction of the image side
ALPHA_FLOOR = 0.15  # magnitudes below this share of the scale are not drawn
# A face the model gets wrong with at least this confidence is flagged as
# possibly mislabelled: confident disagreements with the label are where
# label noise gathers (CelebA's labels are binary annotator judgements; the
# generated sample contradicts 3% of Male and 8% of Young labels on purpose).
CONFIDENT_ERROR = 0.9


@dataclasses.dataclass
class Explained:
  """One explained image, as a figure row.

  Attributes:
    image_id: CelebA file name (or the image file's name).
    cohort: its ground-truth cohort ('' if unknown).
    truth: output -> 0/1, or -1 if unknown.
    saliency: the maps.
    aspect: width / height of the original image.
  """
  image_id: str
  cohort: str
  truth: Dict[str, int]
  saliency: saliency_lib.ImageSaliency
  aspect: float

  def possible_label_noise(self) -> List[str]:
    """The outputs the model contradicts with CONFIDENT_ERROR or more."""
    flagged = []
    for output, result in self.saliency.outputs.items():
      truth = self.truth.get(output, -1)
      if truth < 0:
        continue
      p_truth = result.probability if truth == 1 else 1 - result.probability
      if p_truth <= 1 - CONFIDENT_ERROR:
        flagged.append(output)
    return flagged


def smoothed(attribution: np.ndarray) -> np.ndarray:
  """The display blur: nets out neighbouring pixels of opposite sign."""
  sigma = max(0.5, SMOOTHING * max(attribution.shape))
  return ndimage.gaussian_filter(attribution.astype(np.float64), sigma)


def heat_rgba(magnitude: np.ndarray, scale: float,
              colour: np.ndarray) -> np.ndarray:
  """A colour layer whose opacity grows with the attribution's magnitude."""
  if scale > 0:
    # Weak values stay transparent so that the strong regions stand out.
    alpha = np.clip((magnitude / scale - ALPHA_FLOOR) / (1 - ALPHA_FLOOR),
                    0.0, 1.0) * 0.9
  else:
    alpha = np.zeros_like(magnitude)
  rgba = np.empty(magnitude.shape + (4,), np.float32)
  rgba[..., :3] = colour
  rgba[..., 3] = alpha
  return rgba


def _as_image(pixels: np.ndarray) -> np.ndarray:
  return np.clip((pixels + 1.0) / 2.0, 0.0, 1.0)


def _grey(pixels: np.ndarray) -> np.ndarray:
  image = _as_image(pixels).mean(axis=-1)
  return 0.35 + 0.5 * image  # faded, so the colour layer reads


def _value(output: str, value: int) -> str:
  return features.VALUE_NAMES[output][value] if value >= 0 else '?'


def saliency_figure(rows: Sequence[Explained], title: str) -> Figure:
  """The figure for one group of images (a cohort, or a command's images)."""
  outputs_order = [k for k in features.LABEL_KEYS
                   if k in rows[0].saliency.outputs]
  columns = 1 + 2 * len(outputs_order)
  aspect = rows[0].aspect
  cell_h = 2.5
  figure = Figure(figsize=(columns * cell_h * aspect + 0.4,
                           len(rows) * (cell_h + 0.55) + 0.6),
                  layout='constrained')
  axes = figure.subplots(len(rows), columns, squeeze=False)
  for r, row in enumerate(rows):
    pixels = row.saliency.pixels
    h = pixels.shape[0]
    extent = (0, h * row.aspect, h, 0)
    ax = axes[r][0]
    ax.imshow(_as_image(pixels), extent=extent, interpolation='bilinear')
    lines = [row.image_id, row.cohort or 'cohort unknown']
    for o in outputs_order:
      result = row.saliency.outputs[o]
      lines.append(
          f'P({features.VALUE_NAMES[o][1]})={result.probability:.2f} '
          f'[{_value(o, row.truth.get(o, -1))}], '
          f'{result.probability - result.baseline_probability:+.2f} vs grey, '
          f'map sums to {float(result.attribution.sum()):+.2f}')
    noisy = row.possible_label_noise()
    if noisy:
      lines.append(f'possible label noise: {", ".join(noisy)}')
    ax.set_title('\n'.join(lines), fontsize=7,
                 color='#b42318' if noisy else 'black')
    for j, output in enumerate(outputs_order):
      result = row.saliency.outputs[output]
      smooth = smoothed(result.attribution)
      scale = float(np.percentile(np.abs(smooth), SCALE_PERCENTILE))
      for k, (sign, colour) in enumerate(((1, UP_COLOUR), (-1, DOWN_COLOUR))):
        ax = axes[r][1 + 2 * j + k]
        ax.imshow(_grey(pixels), cmap='gray', vmin=0, vmax=1, extent=extent,
                  interpolation='bilinear')
        ax.imshow(heat_rgba(np.maximum(sign * smooth, 0), scale, colour),
                  extent=extent, interpolation='bilinear')
        towards = features.VALUE_NAMES[output][1 if sign > 0 else 0]
        ax.set_title(f'{output}: pushes towards\n{towards}', fontsize=8)
  for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
  figure.suptitle(title, fontsize=10)
  return figure


@dataclasses.dataclass
class CohortAverage:
  """Mean IG maps of one cohort.

  Attributes:
    cohort: the cohort's name.
    count: images averaged.
    mean_pixels: [H, W, 3] mean network input of those images.
    attributions: output -> [H, W] mean signed map.
    aspect: width / height of the original images.
  """
  cohort: str
  count: int
  mean_pixels: np.ndarray
  attributions: Dict[str, np.ndarray]
  aspect: float
  # output -> mean probability of the averaged faces, and of the baseline.
  mean_probability: Dict[str, float] = dataclasses.field(default_factory=dict)
  baseline_probability: Dict[str, float] = dataclasses.field(
      default_factory=dict)

  def mean_change(self, output: str) -> float:
    """What IG divides among the pixels, on average: p(face) - p(grey)."""
    return (self.mean_probability.get(output, np.nan) -
            self.baseline_probability.get(output, np.nan))


def average_figure(averages: Sequence[CohortAverage], title: str) -> Figure:
  """Rows: outputs; columns: cohorts; red up and blue down in one panel."""
  outputs_order = [k for k in features.LABEL_KEYS
                   if k in averages[0].attributions]
  aspect = averages[0].aspect
  cell_h = 2.6
  figure = Figure(figsize=(len(averages) * cell_h * aspect + 0.4,
                           len(outputs_order) * (cell_h + 0.4) + 0.6),
                  layout='constrained')
  axes = figure.subplots(len(outputs_order), len(averages), squeeze=False)
  for r, output in enumerate(outputs_order):
    smooth = [smoothed(a.attributions[output]) for a in averages]
    scale = float(np.percentile(np.abs(np.stack(smooth)), SCALE_PERCENTILE))
    for c, (average, mean_map) in enumerate(zip(averages, smooth)):
      ax = axes[r][c]
      h = average.mean_pixels.shape[0]
      extent = (0, h * average.aspect, h, 0)
      ax.imshow(_grey(average.mean_pixels), cmap='gray', vmin=0, vmax=1,
                extent=extent, interpolation='bilinear')
      for sign, colour in ((1, UP_COLOUR), (-1, DOWN_COLOUR)):
        ax.imshow(heat_rgba(np.maximum(sign * mean_map, 0), scale, colour),
                  extent=extent, interpolation='bilinear')
      change = average.mean_change(output)
      title = f'{average.cohort} (n={average.count})'
      if np.isfinite(change):
        title += (f'\nmean P({features.VALUE_NAMES[output][1]}) '
                  f'{average.mean_probability[output]:.2f}, '
                  f'{change:+.2f} vs grey')
      ax.set_title(title, fontsize=8)
      if c == 0:
        names = features.VALUE_NAMES[output]
        ax.set_ylabel(f'{output}\nred: towards {names[1]}\n'
                      f'blue: towards {names[0]}', fontsize=8)
      ax.set_xticks([])
      ax.set_yticks([])
  figure.suptitle(title, fontsize=10)
  return figure
