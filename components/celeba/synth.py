"""Generates a CelebA look-alike in CelebA's official file layout.

CelebA cannot be fetched by the pipeline (it is distributed under an
agreement, by hand), yet the pipeline must run end to end on a fresh
checkout. This module writes a small generated set that the converter reads
through exactly the code it uses for the real data:

  img_align_celeba/000001.jpg ...   178 x 218 RGB JPEGs of drawn faces
  list_attr_celeba.txt              count, 40 names, padded rows of 1 / -1
  list_eval_partition.txt           `000001.jpg 0`, 80/10/10 by identity
  identity_CelebA.txt               `000001.jpg 17`
  synth_info.json                   how the set was made (not a CelebA file)

Labels. `Male` and `Young` follow CelebA's rates (P(Male) = 0.417, P(Young) =
0.774) with CelebA's dependence between them: Young is more common among
women (0.85) than men (0.668), so the two Non-Young cohorts are the small ones
(about 8.7% Non-Young x Female and 13.8% Non-Young x Male of the images). The
other 38 attributes are Bernoulli draws whose rates depend on the gender x age
cohort, from the table ATTRIBUTE_RATES below, with CelebA's obvious
consistency: No_Beard is 1 for every woman, beard styles and baldness are male
only, Lipstick and Heavy_Makeup mostly female, Gray_Hair mostly Non-Young,
hair colours are mutually exclusive and so are Straight_Hair / Wavy_Hair.
Gender and age belong to an identity (1-6 images each); identities never
cross partitions, as in CelebA.

Pictures. Each image draws a simple face (background, shoulders, hair, face
oval, eyes, nose, mouth) with nuisance variation: skin tone, hair colour,
face size, position jitter, background, lighting and sensor noise. Two cues
carry the labels, clear enough for a small MobileNetV2 at 64-96 px:
  - Male: short hair that stops above the ears and a dark stubble/beard over
    the jaw; Female: long hair falling past the jaw on both sides, clean jaw.
  - Non-Young: wrinkle lines on the forehead and cheeks, bags under the eyes
    and greyed hair; Young: smooth skin and the identity's own hair colour.
A picture depends on the labels only through these two drawn cues (the drawn
extras, Smiling and Eyeglasses, have the same rate in every cohort), so the
other 38 attributes leak nothing about Male or Young.

Label noise. With probability MALE_LABEL_NOISE the drawn gender cue is the
opposite of the `Male` label, and with probability YOUNG_LABEL_NOISE the drawn
age cue is the opposite of `Young`, independently per image. No model can
tell a flipped image from a clean one, so the best achievable accuracy is
1 - noise per output: 0.97 for Male and 0.92 for Young (see
`best_achievable_accuracy`, which derives it from the label model). A model
clearly above those on a large generated test split is reading something it
should not.

Determinism: the same `seed` and `num_images` give byte-identical files (on
the same Pillow / libjpeg build).
"""

import dataclasses
import io
import json
import math
import multiprocessing
import os
import shutil
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple, Union

import numpy as np
from PIL import Image, ImageDraw

from models import features

IMAGE_WIDTH = 178
IMAGE_HEIGHT = 218
JPEG_QUALITY = 90

# Probability that the drawn cue contradicts the label (per image).
MALE_LABEL_NOISE = 0.03
YOUNG_LABEL_NOISE = 0.08

# CelebA's label model for the two predicted attributes.
P_MALE = 0.417
P_YOUNG_GIVEN_FEMALE = 0.85
# so that P(Young) = 0.583 * 0.85 + 0.417 * 0.668 = 0.774
P_YOUNG_GIVEN_MALE = 0.668

# inclusive range, uniform (narrower below 180 images)
IMAGES_PER_IDENTITY = (1, 6)
# Below this many images per process a second process does not pay for its
# start-up; chunks of this many images balance the processes.
MIN_IMAGES_PER_PROCESS = 1000
_IMAGES_PER_CHUNK = 5000
_PROGRESS_EVERY = 64
PARTITION_FRACTIONS = (0.8, 0.1, 0.1)  # train, eval, test (partitions 0, 1, 2)

ATTR_FILE = 'list_attr_celeba.txt'
PARTITION_FILE = 'list_eval_partition.txt'
IDENTITY_FILE = 'identity_CelebA.txt'
IMAGES_DIR = 'img_align_celeba'
INFO_FILE = 'synth_info.json'

# Cohort columns of ATTRIBUTE_RATES, indexed by 2 * male + (1 - young).
COHORT_COLUMNS = ('Young x Female', 'Non-Young x Female', 'Young x Male',
                  'Non-Young x Male')

# name: (approximate rate over real CelebA, P(attribute = 1 | cohort) for the
# four COHORT_COLUMNS). The cohort rates are chosen so that the rate over the
# generated set (weighted by the cohort sizes above) lands near the CelebA rate.
ATTRIBUTE_RATES: Dict[str, Tuple[float, Tuple[float, float, float, float]]] = {
    #                     CelebA   F&Y    F&NY   M&Y    M&NY
    '5_o_Clock_Shadow':  (0.111, (0.0,   0.0,   0.28,  0.24)),
    'Arched_Eyebrows':   (0.267, (0.43,  0.36,  0.05,  0.04)),
    'Attractive':        (0.513, (0.74,  0.35,  0.35,  0.12)),
    'Bags_Under_Eyes':   (0.205, (0.08,  0.30,  0.25,  0.50)),
    'Bald':              (0.022, (0.0,   0.0,   0.02,  0.12)),
    'Bangs':             (0.152, (0.22,  0.15,  0.08,  0.05)),
    'Big_Lips':          (0.241, (0.28,  0.25,  0.19,  0.17)),
    'Big_Nose':          (0.234, (0.10,  0.18,  0.35,  0.50)),
    'Black_Hair':        (0.239, (0.24,  0.15,  0.28,  0.20)),
    'Blond_Hair':        (0.148, (0.25,  0.18,  0.03,  0.02)),
    'Blurry':            (0.051, (0.05,  0.05,  0.05,  0.05)),
    'Brown_Hair':        (0.205, (0.25,  0.18,  0.17,  0.10)),
    'Bushy_Eyebrows':    (0.142, (0.08,  0.06,  0.25,  0.20)),
    'Chubby':            (0.058, (0.02,  0.07,  0.07,  0.20)),
    'Double_Chin':       (0.047, (0.015, 0.06,  0.05,  0.17)),
    'Eyeglasses':        (0.065, (0.065, 0.065, 0.065, 0.065)),
    'Goatee':            (0.063, (0.0,   0.0,   0.16,  0.14)),
    'Gray_Hair':         (0.042, (0.002, 0.18,  0.01,  0.15)),
    'Heavy_Makeup':      (0.387, (0.68,  0.50,  0.005, 0.002)),
    'High_Cheekbones':   (0.455, (0.55,  0.48,  0.33,  0.30)),
    'Mouth_Slightly_Open': (0.483, (0.48, 0.48, 0.48,  0.48)),
    'Mustache':          (0.042, (0.0,   0.0,   0.09,  0.13)),
    'Narrow_Eyes':       (0.115, (0.115, 0.115, 0.115, 0.115)),
    'No_Beard':          (0.835, (1.0,   1.0,   0.62,  0.58)),
    'Oval_Face':         (0.284, (0.32,  0.25,  0.24,  0.20)),
    'Pale_Skin':         (0.043, (0.05,  0.04,  0.035, 0.03)),
    'Pointy_Nose':       (0.277, (0.33,  0.25,  0.22,  0.18)),
    'Receding_Hairline': (0.080, (0.04,  0.10,  0.08,  0.22)),
    'Rosy_Cheeks':       (0.066, (0.12,  0.05,  0.005, 0.002)),
    'Sideburns':         (0.057, (0.0,   0.0,   0.15,  0.11)),
    'Smiling':           (0.482, (0.482, 0.482, 0.482, 0.482)),
    'Straight_Hair':     (0.208, (0.21,  0.18,  0.22,  0.18)),
    'Wavy_Hair':         (0.320, (0.46,  0.38,  0.15,  0.10)),
    'Wearing_Earrings':  (0.189, (0.31,  0.26,  0.02,  0.01)),
    'Wearing_Hat':       (0.048, (0.048, 0.048, 0.048, 0.048)),
    'Wearing_Lipstick':  (0.472, (0.82,  0.65,  0.006, 0.003)),
    'Wearing_Necklace':  (0.123, (0.20,  0.16,  0.01,  0.01)),
    'Wearing_Necktie':   (0.073, (0.005, 0.005, 0.12,  0.22)),
}

# At most one attribute of each group is 1 (sampled as one categorical draw,
# which keeps every member's marginal rate as in the table).
EXCLUSIVE_GROUPS: Tuple[Tuple[str, ...], ...] = (
    ('Black_Hair', 'Blond_Hair', 'Brown_Hair', 'Gray_Hair'),
    ('Straight_Hair', 'Wavy_Hair'),
)
# Beard styles exist only where No_Beard is 0; their table rates are marginal.
BEARD_STYLES: Tuple[str, ...] = ('Goatee', 'Mustache', 'Sideburns')
# Attributes the pictures show besides the two cues; their rates must not
# depend on the cohort, or the picture would leak the labels.
DRAWN_ATTRIBUTES: Tuple[str, ...] = ('Smiling', 'Eyeglasses')

_COL = {name: i for i, name in enumerate(features.ATTRIBUTE_NAMES)}


@dataclasses.dataclass(frozen=True)
class SynthPlan:
  """Everything about a generated set except the pixels, in file order.

  Row i describes image `image_ids[i]` (= f'{i + 1:06d}.jpg'). Files are
  numbered train first, then eval, then test, as in CelebA.
  """
  image_ids: List[str]
  # (N, 40) uint8 0/1, columns in ATTRIBUTE_NAMES order
  attributes: np.ndarray
  partitions: np.ndarray    # (N,) int8: 0 train, 1 eval, 2 test
  identities: np.ndarray    # (N,) int32, identity numbers from 1
  drawn_male: np.ndarray    # (N,) bool: the gender cue drawn in the picture
  drawn_young: np.ndarray   # (N,) bool: the age cue drawn in the picture

  def column(self, name: str) -> np.ndarray:
    return self.attributes[:, _COL[name]]


@dataclasses.dataclass(frozen=True)
class SynthSummary:
  """What `synthesize` wrote."""
  output_dir: str
  num_images: int
  seed: int
  num_identities: int
  partition_counts: Dict[int, int]
  label_rates: Dict[str, float]        # observed P(Male), P(Young)
  cohort_counts: Dict[str, int]        # by features.cohort_name
  # images whose drawn cue contradicts the label
  flipped: Dict[str, int]


def cohort_probabilities() -> np.ndarray:
  """P(cohort) for the four COHORT_COLUMNS under the label model."""
  pf, pm = 1.0 - P_MALE, P_MALE
  return np.array([pf * P_YOUNG_GIVEN_FEMALE, pf * (1 - P_YOUNG_GIVEN_FEMALE),
                   pm * P_YOUNG_GIVEN_MALE, pm * (1 - P_YOUNG_GIVEN_MALE)])


def expected_rates() -> Dict[str, float]:
  """Rate of each attribute over a large generated set, from the table."""
  weights = cohort_probabilities()
  rates = {name: float(np.dot(weights, cohort_rates))
           for name, (_, cohort_rates) in ATTRIBUTE_RATES.items()}
  rates[features.MALE_KEY] = P_MALE
  rates[features.YOUNG_KEY] = float(weights[0] + weights[2])
  return rates


def best_achievable_accuracy() -> Dict[str, float]:
  """Bayes-optimal accuracy for Male and Young on generated images.

  An ideal model sees both drawn cues perfectly but not the label noise. For
  each output it predicts the label value with the largest posterior given the
  two cues; its accuracy is the sum over cue combinations of that largest
  joint probability. With these rates the other cue never overturns a cue, so
  the result is exactly 1 - noise: {'Male': 0.97, 'Young': 0.92}.
  """
  joint = {}  # (male, young) -> probability
  for col, p in enumerate(cohort_probabilities()):
    joint[(col // 2, 1 - col % 2)] = p

  def p_cue(cue: int, label: int, noise: float) -> float:
    return 1.0 - noise if cue == label else noise

  best = {features.MALE_KEY: 0.0, features.YOUNG_KEY: 0.0}
  for cue_m in (0, 1):
    for cue_y in (0, 1):
      # P(labels, cues) for each label pair.
      scores = {
          (m, y): p * p_cue(cue_m, m, MALE_LABEL_NOISE) *
                  p_cue(cue_y, y, YOUNG_LABEL_NOISE)
          for (m, y), p in joint.items()}
      best[features.MALE_KEY] += max(
          sum(s for (m, _), s in scores.items() if m == v) for v in (0, 1))
      best[features.YOUNG_KEY] += max(
          sum(s for (_, y), s in scores.items() if y == v) for v in (0, 1))
  return {k: round(v, 12) for k, v in best.items()}



def split_ceiling(plan_: SynthPlan,
                  partition: int) -> Dict[str, Dict[str, float]]:
  """Accuracy of a model that reads both drawn cues perfectly, on one split.

  `best_achievable_accuracy` is the expectation over the label model; a
  finite split holds its own number of flipped labels, so its ceiling is a
  little above or below, and more so in a small cohort. A model at this
  ceiling errs on exactly the images whose label contradicts the picture.
  Returns {output: {'Overall' or cohort name: accuracy}}.
  """
  rows = plan_.partitions == partition
  male = plan_.column(features.MALE_KEY)[rows].astype(bool)
  young = plan_.column(features.YOUNG_KEY)[rows].astype(bool)
  right = {features.MALE_KEY: plan_.drawn_male[rows] == male,
           features.YOUNG_KEY: plan_.drawn_young[rows] == young}
  ceiling: Dict[str, Dict[str, float]] = {}
  for output, correct in right.items():
    ceiling[output] = {'Overall': float(correct.mean())}
    for m, y in features.COHORTS:
      members = (male == m) & (young == y)
      ceiling[output][features.cohort_name(m, y)] = float(
          correct[members].mean())
  return ceiling

def _assign_partitions(sizes: np.ndarray,
                       rng: np.random.Generator) -> np.ndarray:
  """Puts whole identities into partitions, keeping image counts near 80/10/10.

  Identities are visited in random order and each goes to the partition
  furthest below its target share of the images seen so far, so even small
  sets get every partition (from about 10 images on).
  """
  targets = np.array(PARTITION_FRACTIONS)
  counts = np.zeros(3)
  assignment = np.zeros(len(sizes), np.int8)
  for k in rng.permutation(len(sizes)):
    deficit = targets * (counts.sum() + sizes[k]) - counts
    p = int(np.argmax(deficit))
    assignment[k] = p
    counts[p] += sizes[k]
  return assignment


def _sample_attributes(male: np.ndarray, young: np.ndarray,
                       rng: np.random.Generator) -> np.ndarray:
  """Draws the 40 attributes given per-image Male and Young labels."""
  n = len(male)
  cohort = 2 * male.astype(np.int64) + (1 - young.astype(np.int64))
  attrs = np.zeros((n, len(features.ATTRIBUTE_NAMES)), np.uint8)
  attrs[:, _COL[features.MALE_KEY]] = male
  attrs[:, _COL[features.YOUNG_KEY]] = young

  def rate(name: str) -> np.ndarray:
    return np.asarray(ATTRIBUTE_RATES[name][1])[cohort]

  grouped = {name for group in EXCLUSIVE_GROUPS for name in group}
  for name in ATTRIBUTE_RATES:   # fixed order: part of the determinism
    if name in grouped or name in BEARD_STYLES:
      continue
    attrs[:, _COL[name]] = rng.random(n) < rate(name)

  for group in EXCLUSIVE_GROUPS:
    u = rng.random(n)
    low = np.zeros(n)
    for name in group:
      high = low + rate(name)
      attrs[:, _COL[name]] = (u >= low) & (u < high)
      low = high

  bearded = attrs[:, _COL['No_Beard']] == 0
  p_beard = 1.0 - rate('No_Beard')
  for name in BEARD_STYLES:
    p = np.divide(rate(name), p_beard, out=np.zeros(n), where=p_beard > 0)
    attrs[:, _COL[name]] = bearded & (rng.random(n) < p)
  return attrs


def plan(num_images: int, seed: int) -> SynthPlan:
  """Samples identities, labels, partitions and drawn cues (no pixels).

  Cheap: tests check the label model on thousands of rows with this alone.
  """
  if num_images < 1:
    raise ValueError(f'num_images must be at least 1, got {num_images}')
  rng = np.random.default_rng([seed, 0])
  low, high = IMAGES_PER_IDENTITY
  # Small sets get smaller identities, so that every partition gets some.
  high = max(low, min(high, num_images // 30))
  sizes = rng.integers(low, high + 1, size=num_images)
  cut = int(np.searchsorted(np.cumsum(sizes), num_images)) + 1
  sizes = sizes[:cut]
  sizes[-1] -= sizes.sum() - num_images
  num_ids = len(sizes)

  id_male = rng.random(num_ids) < P_MALE
  id_young = rng.random(num_ids) < np.where(id_male, P_YOUNG_GIVEN_MALE,
                                            P_YOUNG_GIVEN_FEMALE)
  # Partitions are drawn within each gender x age cohort, so even a small
  # sample's eval and test splits hold every cohort in its usual share (the
  # Evaluator's cohort floors need more than a handful of examples).
  id_cohort = 2 * id_male.astype(np.int64) + id_young
  id_partition = np.zeros(num_ids, np.int8)
  for cohort in range(4):
    members = np.flatnonzero(id_cohort == cohort)
    id_partition[members] = _assign_partitions(sizes[members], rng)
  id_number = rng.permutation(num_ids).astype(np.int32) + 1

  ident = np.repeat(np.arange(num_ids), sizes)
  male, young = id_male[ident], id_young[ident]
  attrs = _sample_attributes(male, young, rng)
  drawn_male = male ^ (rng.random(num_images) < MALE_LABEL_NOISE)
  drawn_young = young ^ (rng.random(num_images) < YOUNG_LABEL_NOISE)

  # CelebA numbers its files train first, then eval, then test.
  partitions = id_partition[ident]
  order = np.lexsort((rng.random(num_images), partitions))
  return SynthPlan(
      image_ids=[f'{i + 1:06d}.jpg' for i in range(num_images)],
      attributes=attrs[order],
      partitions=partitions[order],
      identities=id_number[ident][order],
      drawn_male=drawn_male[order],
      drawn_young=drawn_young[order],
  )


# ----------------------------------------------------------------- pictures

_HAIR_COLOURS = np.array([
    (28, 22, 20), (58, 38, 24), (96, 64, 38), (140, 96, 58), (126, 58, 30),
    (196, 160, 96), (222, 192, 130), (82, 52, 44)], np.float64)
_SKIN_LIGHT = np.array((238, 204, 180), np.float64)
_SKIN_DARK = np.array((112, 74, 52), np.float64)
_GREY = np.array((208, 208, 206), np.float64)
_BEARD = np.array((42, 34, 30), np.float64)
_EYE_COLOURS = ((60, 40, 25), (40, 70, 110), (70, 90, 50), (30, 25, 20))


def _rgb(c: np.ndarray) -> Tuple[int, int, int]:
  c = np.clip(np.rint(c), 0, 255).astype(int)
  return int(c[0]), int(c[1]), int(c[2])


def _mix(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
  return (1.0 - t) * np.asarray(a, np.float64) + t * np.asarray(b, np.float64)


@dataclasses.dataclass(frozen=True)
class _Identity:
  """Looks that stay the same across one person's images."""
  skin: np.ndarray
  hair: np.ndarray
  face_half_width: float
  eye_colour: Tuple[int, int, int]


def _identities(num: int, seed: int) -> List[_Identity]:
  rng = np.random.default_rng([seed, 1])
  out = []
  for _ in range(num):
    skin = _mix(_SKIN_LIGHT, _SKIN_DARK, rng.random()) + rng.normal(0, 6, 3)
    hair = _HAIR_COLOURS[rng.integers(len(_HAIR_COLOURS))] + rng.normal(0, 8, 3)
    out.append(_Identity(
        skin=skin, hair=hair, face_half_width=float(rng.uniform(40, 47)),
        eye_colour=_EYE_COLOURS[rng.integers(len(_EYE_COLOURS))]))
  return out


def _draw_face(rng: np.random.Generator, who: _Identity, male: bool,
               young: bool, smiling: bool, eyeglasses: bool,
               noise: np.ndarray) -> Image.Image:
  """Draws one face; `male` and `young` are the cues to show, not labels.

  `noise` is a standard-normal field at least as large as the image, shared
  between images and cropped at a random offset (cheaper than fresh noise).
  """
  w, h = IMAGE_WIDTH, IMAGE_HEIGHT
  bg = rng.uniform(30, 225, 3)
  img = Image.new('RGB', (w, h), _rgb(bg))
  d = ImageDraw.Draw(img)

  # Background clutter: a second colour in a random block.
  x0, y0 = rng.uniform(-60, w), rng.uniform(-60, h)
  d.rectangle((x0, y0, x0 + rng.uniform(40, 140), y0 + rng.uniform(40, 140)),
              fill=_rgb(_mix(bg, rng.uniform(30, 225, 3), 0.6)))

  scale = rng.uniform(0.95, 1.05)
  a = who.face_half_width * scale                    # face half width
  b = a * rng.uniform(1.25, 1.35)                    # face half height
  cx = w / 2 + rng.uniform(-9, 9)
  cy = 122 + rng.uniform(-8, 8)
  skin = who.skin + rng.normal(0, 4, 3)
  hair = who.hair + rng.normal(0, 5, 3)
  if not young:
    hair = _mix(hair, _GREY, rng.uniform(0.8, 0.97))

  # Shoulders and neck.
  clothes = _rgb(rng.uniform(20, 230, 3))
  d.polygon([(cx - 88, h), (cx - 56, cy + b + 14), (cx + 56, cy + b + 14),
             (cx + 88, h)], fill=clothes)
  d.rectangle((cx - a * 0.42, cy + b * 0.5, cx + a * 0.42, cy + b + 18),
              fill=_rgb(skin * 0.85))

  # Hair behind the face: long for the female cue, a short cap for the male.
  if male:
    d.ellipse(
        (cx - a - 3, cy - b - rng.uniform(6, 12), cx + a + 3, cy - b * 0.05),
        fill=_rgb(hair))
  else:
    side = a + rng.uniform(15, 23)
    length = cy + b + rng.uniform(25, 45)
    d.ellipse((cx - side, cy - b - 14, cx + side, cy + b * 0.6),
              fill=_rgb(hair))
    d.rectangle((cx - side, cy - b * 0.1, cx - a + 8, length), fill=_rgb(hair))
    d.rectangle((cx + a - 8, cy - b * 0.1, cx + side, length), fill=_rgb(hair))

  face = (cx - a, cy - b, cx + a, cy + b)
  d.ellipse(face, fill=_rgb(skin))
  d.ellipse((cx - a - 5, cy - b * 0.25, cx - a + 5, cy + b * 0.05),
            fill=_rgb(skin * 0.92))
  d.ellipse((cx + a - 5, cy - b * 0.25, cx + a + 5, cy + b * 0.05),
            fill=_rgb(skin * 0.92))

  if male:  # stubble to full beard over the jaw
    beard = _mix(skin, _mix(_BEARD, hair, 0.3), rng.uniform(0.6, 0.85))
    d.chord(face, 15, 165, fill=_rgb(beard))

  line = _rgb(skin * 0.45)
  eye_y = cy - b * 0.18
  eye_dx = a * 0.42
  if not young:  # wrinkles and eye bags
    for i in range(4):
      y = cy - b * 0.7 + i * 7
      d.arc((cx - a * 0.65, y, cx + a * 0.65, y + 14), 200, 340, fill=line,
            width=3)
    for s in (-1, 1):
      d.line(
          (cx + s * a * 0.22, cy + b * 0.08, cx + s * a * 0.45, cy + b * 0.45),
          fill=line, width=3)
      d.arc((cx + s * eye_dx - 9, eye_y + 1, cx + s * eye_dx + 9, eye_y + 11),
            20, 160, fill=line, width=2)
      d.line((cx + s * (eye_dx + 11), eye_y - 2, cx + s *
              (eye_dx + 17), eye_y - 6), fill=line, width=2)
      d.line((cx + s * (eye_dx + 11), eye_y + 2, cx + s *
              (eye_dx + 17), eye_y + 5), fill=line, width=2)
      for k in range(3):  # cheek lines
        x = cx + s * a * (0.55 + 0.09 * k)
        d.line((x, cy + b * 0.05, x + s * 3, cy + b * 0.3), fill=line, width=2)

  for s in (-1, 1):
    ex = cx + s * eye_dx
    d.ellipse((ex - 8, eye_y - 4, ex + 8, eye_y + 4), fill=(240, 240, 236))
    d.ellipse((ex - 3.5, eye_y - 3.5, ex + 3.5, eye_y + 3.5),
              fill=who.eye_colour)
    d.line((ex - 9, eye_y - 10, ex + 9, eye_y - 11), fill=_rgb(hair * 0.8),
           width=3)
    if eyeglasses:
      d.rectangle((ex - 13, eye_y - 9, ex + 13, eye_y + 9),
                  outline=(20, 20, 20), width=2)
  if eyeglasses:
    d.line((cx - eye_dx + 13, eye_y, cx + eye_dx - 13, eye_y),
           fill=(20, 20, 20), width=2)

  d.line((cx, eye_y + 6, cx - 4, cy + b * 0.22), fill=_rgb(skin * 0.7), width=2)
  d.line((cx - 4, cy + b * 0.22, cx + 4, cy + b * 0.22), fill=_rgb(skin * 0.7),
         width=2)

  mouth_y = cy + b * 0.45
  lips = _rgb(_mix(skin, (150, 40, 50), 0.6))
  if smiling:
    d.chord((cx - a * 0.38, mouth_y - 8, cx + a * 0.38, mouth_y + 8), 0, 180,
            fill=lips)
  else:
    d.line((cx - a * 0.3, mouth_y, cx + a * 0.3, mouth_y), fill=lips, width=4)

  # Lighting and sensor noise.
  pixels = np.asarray(img, np.float32) * np.float32(rng.uniform(0.8, 1.15))
  oy = int(rng.integers(noise.shape[0] - h + 1))
  ox = int(rng.integers(noise.shape[1] - w + 1))
  pixels += noise[oy:oy + h, ox:ox + w] * np.float32(rng.uniform(2.0, 7.0))
  return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _attr_rows(plan_: SynthPlan) -> str:
  # Values right-aligned in 3 columns, as in the real file: ' -1' and '  1'.
  cells = np.where(plan_.attributes == 1, '  1', ' -1')
  return ''.join(f'{image_id}{"".join(row)}\n'
                 for image_id, row in zip(plan_.image_ids, cells))


def write_tables(output_dir: Union[str, Path], plan_: SynthPlan) -> None:
  """Writes the three CelebA tables for `plan_` in the official format."""
  out = Path(output_dir)
  n = len(plan_.image_ids)
  # The real header line ends with a space after 'Young'.
  header = f'{n}\n' + ' '.join(features.ATTRIBUTE_NAMES) + ' \n'
  (out / ATTR_FILE).write_text(header + _attr_rows(plan_), encoding='ascii')
  (out / PARTITION_FILE).write_text(
      ''.join(f'{i} {p}\n' for i, p in zip(plan_.image_ids, plan_.partitions)),
      encoding='ascii')
  (out / IDENTITY_FILE).write_text(
      ''.join(f'{i} {k}\n' for i, k in zip(plan_.image_ids, plan_.identities)),
      encoding='ascii')


def _prepare_output(out: Path, overwrite: bool) -> None:
  ours = [IMAGES_DIR, ATTR_FILE, PARTITION_FILE, IDENTITY_FILE, INFO_FILE]
  if out.exists() and any(out.iterdir()):
    if not overwrite:
      raise FileExistsError(
          f'{out} is not empty; pass overwrite=True (--overwrite) to replace a '
          'generated set there')
    for name in ours:
      path = out / name
      if path.is_dir():
        shutil.rmtree(path)
      elif path.exists():
        path.unlink()
  (out / IMAGES_DIR).mkdir(parents=True, exist_ok=True)


def _draw_images(images_dir: Path, plan_: SynthPlan, seed: int, start: int,
                 stop: int, tick: Optional[Callable[[int], None]] = None
                 ) -> None:
  """Draws and writes images start..stop-1 of the plan.

  Image i depends only on the plan, the seed and i (its own generator is
  seeded with [seed, 2, i]), so any split of the range over processes writes
  the same bytes as one process.
  """
  looks = _identities(int(plan_.identities.max()), seed)
  noise = np.random.default_rng([seed, 3]).standard_normal(
      (IMAGE_HEIGHT + 64, IMAGE_WIDTH + 64, 3)).astype(np.float32)
  smiling = plan_.column('Smiling')
  glasses = plan_.column('Eyeglasses')
  pending = 0
  for i in range(start, stop):
    rng = np.random.default_rng([seed, 2, i])
    img = _draw_face(rng, looks[plan_.identities[i] - 1],
                     bool(plan_.drawn_male[i]), bool(plan_.drawn_young[i]),
                     bool(smiling[i]), bool(glasses[i]), noise)
    buf = io.BytesIO()
    img.save(buf, 'JPEG', quality=JPEG_QUALITY)
    (images_dir / plan_.image_ids[i]).write_bytes(buf.getvalue())
    pending += 1
    if tick is not None and pending == _PROGRESS_EVERY:
      tick(pending)
      pending = 0
  if tick is not None and pending:
    tick(pending)


_COUNTER = None  # the multiprocessing.Value a worker adds its progress to


def _init_worker(counter) -> None:
  global _COUNTER
  _COUNTER = counter


def _add_progress(n: int) -> None:
  with _COUNTER.get_lock():
    _COUNTER.value += n


def _draw_chunk(args: Tuple[str, int, int, int, int]) -> None:
  images_dir, num_images, seed, start, stop = args
  _draw_images(Path(images_dir), plan(num_images, seed), seed, start, stop,
               _add_progress)


def default_workers(num_images: int) -> int:
  """The usable cores, but one process for sets too small to pay for more."""
  try:
    cores = len(os.sched_getaffinity(0))
  except AttributeError:
    cores = os.cpu_count() or 1
  return max(1, min(cores, num_images // MIN_IMAGES_PER_PROCESS))


def _draw_all(images_dir: Path, plan_: SynthPlan, seed: int, workers: int,
              progress: Optional[Callable[[int, int], None]]) -> None:
  num_images = len(plan_.image_ids)
  if workers <= 1:
    done = [0]

    def tick(n: int) -> None:
      done[0] += n
      if progress is not None:
        progress(done[0], num_images)

    _draw_images(images_dir, plan_, seed, 0, num_images, tick)
    return
  # Spawned, not forked: the caller may have TensorFlow (and its threads)
  # loaded. Each worker rebuilds the plan from (num_images, seed), which is
  # cheaper than pickling it.
  ctx = multiprocessing.get_context('spawn')
  counter = ctx.Value('q', 0)
  chunks = max(workers, math.ceil(num_images / _IMAGES_PER_CHUNK))
  bounds = [num_images * k // chunks for k in range(chunks + 1)]
  tasks = [(str(images_dir), num_images, seed, bounds[k], bounds[k + 1])
           for k in range(chunks)]
  with ctx.Pool(workers, initializer=_init_worker,
                initargs=(counter,)) as pool:
    pending = pool.map_async(_draw_chunk, tasks)
    while not pending.ready():
      pending.wait(0.5)
      if progress is not None and not pending.ready():
        progress(counter.value, num_images)
    pending.get()
  if progress is not None:
    progress(counter.value, num_images)


def synthesize(output_dir: Union[str, Path], num_images: int, seed: int,
               overwrite: bool = False, workers: Optional[int] = None,
               progress: Optional[Callable[[int, int], None]] = None
               ) -> SynthSummary:
  """Writes a generated CelebA of `num_images` images into `output_dir`.

  Args:
    output_dir: created if needed; must be empty unless `overwrite`.
    num_images: number of images (at least 1; about 10 or more gives every
      partition).
    seed: the same seed and count give byte-identical output.
    overwrite: replace a previous generated set (only the files this writes).
    workers: drawing processes; default `default_workers(num_images)`. Any
      number writes the same bytes.
    progress: called now and then with (images written, total).
  """
  out = Path(output_dir)
  _prepare_output(out, overwrite)
  p = plan(num_images, seed)
  _draw_all(out / IMAGES_DIR, p, seed,
            default_workers(num_images) if workers is None else workers,
            progress)
  write_tables(out, p)

  male, young = p.column(features.MALE_KEY), p.column(features.YOUNG_KEY)
  flipped_male = [i for i, f in zip(p.image_ids, p.drawn_male != male) if f]
  flipped_young = [i for i, f in zip(p.image_ids, p.drawn_young != young) if f]
  cohorts: Dict[str, int] = {}
  for m, y in zip(male, young):
    name = features.cohort_name(int(m), int(y))
    cohorts[name] = cohorts.get(name, 0) + 1
  summary = SynthSummary(
      output_dir=str(out), num_images=num_images, seed=seed,
      num_identities=int(p.identities.max()),
      partition_counts={k: int((p.partitions == k).sum()) for k in (0, 1, 2)},
      label_rates={
          features.MALE_KEY: float(male.mean()),
          features.YOUNG_KEY: float(young.mean())
      }, cohort_counts=cohorts, flipped={
          features.MALE_KEY: len(flipped_male),
          features.YOUNG_KEY: len(flipped_young)
      })
  info = {
      'generator': 'components.celeba.synth',
      'synthetic': True,
      'num_images': num_images,
      'seed': seed,
      'label_noise': {
          features.MALE_KEY: MALE_LABEL_NOISE,
          features.YOUNG_KEY: YOUNG_LABEL_NOISE
      },
      'best_achievable_accuracy': best_achievable_accuracy(),
      # Without output_dir: the same seed gives the same bytes anywhere.
      'summary': {
          k: v
          for k, v in dataclasses.asdict(summary).items()
          if k != 'output_dir'
      },
      'flipped_images': {
          features.MALE_KEY: flipped_male,
          features.YOUNG_KEY: flipped_young
      },
  }
  (out /
   INFO_FILE).write_text(json.dumps(info, indent=1, sort_keys=True) + '\n')
  return summary
