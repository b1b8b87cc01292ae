"""Which pixels push each prediction up, and which push it down.

Method: signed Integrated Gradients (Sundararajan et al., 2017) from PAIR's
`saliency` library (saliency.core.IntegratedGradients), on the probability of
each output, over the pixels `transform_jpeg` produces, i.e. through the exact
serving preprocessing.

Why Integrated Gradients, and not Grad-CAM (which the same library offers):

* It needs nothing but input gradients, which flow through the exported
  `predict_pixels` signature. Grad-CAM needs the last convolutional feature
  map and its gradient, which the signatures do not expose: it would need a
  re-export or rebuilding the Keras model, so it could not explain an
  already pushed model as served.
* Resolution. MobileNetV2's last feature map is 1/32 of the input: 3 x 3
  cells at the sample's 96 px, 7 x 7 at 224 px. That cannot tell the jaw
  (beard) from the hair beside it, the very cues gender and age show in.
  IG attributes to every input pixel.
* Sign. IG's attribution is signed, and by its completeness property the
  attributions sum to p(image) - p(baseline): the positive part is what
  pushes the prediction up (towards 'Male', 'Young'), the negative part
  what pushes it down (towards 'Female', 'Non-Young'), in probability units
  that add up. Grad-CAM keeps only positive evidence for the explained class.
* Cost is the price: `steps` forward and backward passes per image and
  output, against one for Grad-CAM. That is fine for a few images per
  cohort (timed in benchmarks/explain_benchmark.py), and the stage records
  each map's completeness gap, the honest measure of whether the steps were
  enough.

Baseline: a mid-grey image (0 in the network's [-1, 1] input). IG gives
pixels equal to the baseline no attribution, so a black baseline would blank
out dark hair and beards, the cues the model should be using; mid-grey is as
far from dark hair as from pale skin.

Attributions are summed over the three colour channels: a map per output of
the image's height x width.
"""

import dataclasses
from typing import Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np
import saliency.core as saliency_core
import tensorflow as tf

PredictFn = Callable[[tf.Tensor], Mapping[str, tf.Tensor]]

METHOD = 'integrated_gradients'
BASELINE = 'mid-grey (0 in [-1, 1])'
MAX_BATCH = 32


def call_model_function(predict: PredictFn, output: str):
  """Adapts a pixels -> {output: [n, 1] probability} function to the
  `saliency` library's interface: gradients of `output` w.r.t. the input."""

  def call(x_value_batch, call_model_args=None, expected_keys=None):
    del call_model_args, expected_keys  # only input gradients are asked for
    x = tf.convert_to_tensor(np.asarray(x_value_batch), tf.float32)
    with tf.GradientTape() as tape:
      tape.watch(x)
      # Summing over the batch gives per-image gradients: images are
      # independent at inference (BatchNorm uses its moving statistics).
      y = tf.reduce_sum(predict(x)[output])
    return {saliency_core.INPUT_OUTPUT_GRADIENTS: tape.gradient(y, x).numpy()}

  return call


def integrated_gradients(predict: PredictFn, pixels: np.ndarray, output: str,
                         steps: int,
                         baseline: Optional[np.ndarray] = None) -> np.ndarray:
  """IG attribution of one output for one image, shape of `pixels` (H,W,C)."""
  pixels = np.asarray(pixels, np.float32)
  if baseline is None:
    baseline = np.zeros_like(pixels)
  return saliency_core.IntegratedGradients().GetMask(
      pixels, call_model_function(predict, output),
      x_baseline=baseline, x_steps=steps,
      batch_size=min(steps, MAX_BATCH)).astype(np.float32)


@dataclasses.dataclass
class OutputSaliency:
  """One output's explanation of one image.

  Attributes:
    attribution: [H, W] signed map, channels summed; > 0 pushes the
      probability up, < 0 pushes it down.
    probability: the model's probability for the image.
    baseline_probability: the probability for the baseline image.
    completeness_gap: |sum(attribution) - (probability - baseline)|, in
      probability units; small means enough steps.
  """
  attribution: np.ndarray
  probability: float
  baseline_probability: float
  completeness_gap: float


@dataclasses.dataclass
class ImageSaliency:
  pixels: np.ndarray                    # [H, W, 3] in [-1, 1]
  outputs: Dict[str, OutputSaliency]


def explain_pixels(predict: PredictFn, pixels: np.ndarray,
                   outputs: Sequence[str], steps: int) -> ImageSaliency:
  """Signed IG maps of every output for one image's network input."""
  pixels = np.asarray(pixels, np.float32)
  baseline = np.zeros_like(pixels)
  both = predict(tf.constant(np.stack([pixels, baseline])))
  result = {}
  for output in outputs:
    probability, base = (float(v) for v in np.ravel(both[output].numpy()))
    attribution = integrated_gradients(predict, pixels, output, steps,
                                       baseline).sum(axis=-1)
    gap = abs(float(attribution.sum()) - (probability - base))
    result[output] = OutputSaliency(attribution, probability, base, gap)
  return ImageSaliency(pixels=pixels, outputs=result)


def mean_attribution(predict: PredictFn, pixels: np.ndarray, output: str,
                     steps: int) -> np.ndarray:
  """The average [H, W] IG map of one output over a batch of images.

  Single maps of a small network trained from scratch are speckled; faces
  are aligned (CelebA's and the generated sample's), so averaging over a
  cohort cancels what is particular to one image and keeps the regions the
  model reads for all of them (for gender, typically chin and neck towards
  Male, hair towards Female).
  """
  maps = [integrated_gradients(predict, p, output, steps).sum(axis=-1)
          for p in np.asarray(pixels, np.float32)]
  return np.mean(maps, axis=0).astype(np.float32)


def choose_images(cohorts: Sequence[str], wrong: np.ndarray,
                  per_cohort: int, seed: int,
                  cohort_order: Sequence[str]) -> Dict[str, List[int]]:
  """Indices of the images to explain, per cohort.

  Half of each cohort's picks (rounded up) are misclassified images when the
  cohort has any, the rest correctly classified ones: a biased model is
  debugged on its errors, and judged against what it gets right.
  """
  rng = np.random.default_rng([seed, 4])
  cohorts = np.asarray(cohorts, dtype=object)
  chosen: Dict[str, List[int]] = {}
  for cohort in cohort_order:
    members = np.flatnonzero(cohorts == cohort)
    if not len(members) or per_cohort == 0:
      continue
    errors = members[wrong[members]]
    right = members[~wrong[members]]
    n_err = min(len(errors), (per_cohort + 1) // 2)
    n_right = min(len(right), per_cohort - n_err)
    n_err = min(len(errors), per_cohort - n_right)  # fill from errors
    picks = list(rng.choice(errors, n_err, replace=False)) + list(
        rng.choice(right, n_right, replace=False))
    chosen[cohort] = sorted(int(i) for i in picks)
  return chosen


def attribution_mass(attribution: np.ndarray, region: np.ndarray) -> float:
  """Share of the total |attribution| that falls inside a boolean region."""
  total = float(np.abs(attribution).sum())
  return float(np.abs(attribution[region]).sum()) / total if total else 0.0
