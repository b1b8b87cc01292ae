"""The ModelExplanation folder, as the explanation component (issue 6) writes it.

Contract of the artifact folder:

    explanation.json = {
      "model_uri": str,       # the model that was explained
      "pushed": bool,         # whether that model was pushed
      "figures": [{"file": "relative/path.png",
                   "section": "Latent space" | "Saliency",
                   "title": str, "caption": str}],
      "seconds": float        # time the explanation took
    }

The report only reads this file and the PNGs it names, so the two components
can change independently as long as the contract holds. A missing figure file
is reported, not fatal: the report must still be written.
"""

import dataclasses
import json
import os
from typing import List, Optional

import tensorflow as tf

EXPLANATION_FILE = 'explanation.json'
SECTIONS = ('Latent space', 'Saliency')


@dataclasses.dataclass(frozen=True)
class Figure:
  section: str
  title: str
  caption: str
  path: str            # absolute path of the PNG
  png: Optional[bytes]  # None when the file is missing


@dataclasses.dataclass(frozen=True)
class Explanation:
  model_uri: str
  pushed: bool
  seconds: float
  figures: List[Figure]

  def sections(self) -> List[str]:
    """Known sections first, in contract order, then any others."""
    present = [f.section for f in self.figures]
    ordered = [s for s in SECTIONS if s in present]
    return ordered + sorted(set(present) - set(SECTIONS))

  def in_section(self, section: str) -> List[Figure]:
    return [f for f in self.figures if f.section == section]


def load(folder: Optional[str]) -> Optional[Explanation]:
  """The explanation in `folder`, or None when there is none."""
  if not folder:
    return None
  path = os.path.join(folder, EXPLANATION_FILE)
  if not tf.io.gfile.exists(path):
    return None
  with tf.io.gfile.GFile(path) as f:
    record = json.load(f)
  figures = []
  for entry in record.get('figures', []):
    figure_path = os.path.join(folder, entry['file'])
    png = None
    if tf.io.gfile.exists(figure_path):
      with tf.io.gfile.GFile(figure_path, 'rb') as f:
        png = f.read()
    figures.append(Figure(section=entry.get('section', 'Other'),
                          title=entry.get('title', entry['file']),
                          caption=entry.get('caption', ''),
                          path=figure_path, png=png))
  return Explanation(model_uri=record.get('model_uri', ''),
                     pushed=bool(record.get('pushed', False)),
                     seconds=float(record.get('seconds', 0.0)),
                     figures=figures)
