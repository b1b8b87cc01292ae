"""explanation.json: the explainer's index of its figures, and its one reader.

The ModelExplainer writes this file beside its figures; the slice report
reads only this file and the PNGs it names to place them, so its shape is a
contract:

    {"model_uri": str,          # the SavedModel folder explained
     "pushed": bool,            # whether the Pusher pushed this model
     "figures": [{"file": "relative/path.png",        # from this folder
                  "section": "Latent space" | "Saliency",
                  "title": str, "caption": str}, ...],
     "seconds": float,          # wall time of the whole stage
     ...}                       # more keys, free for readers to ignore

`write` validates before writing and `load` after reading. A figure file that
has gone missing is reported by the reader, not fatal: a report must still be
written without it.
"""

import dataclasses
import json
import os
from typing import Any, Dict, List, Optional, Sequence

import tensorflow as tf

EXPLANATION_FILE = 'explanation.json'
LATENT_SPACE = 'Latent space'
SALIENCY = 'Saliency'
SECTIONS = (LATENT_SPACE, SALIENCY)


@dataclasses.dataclass
class FigureEntry:
  """One figure as the writer lists it."""
  file: str
  section: str
  title: str
  caption: str


@dataclasses.dataclass(frozen=True)
class Figure:
  """One figure as a reader gets it, with its PNG bytes."""
  section: str
  title: str
  caption: str
  path: str             # absolute path of the PNG
  png: Optional[bytes]  # None when the file is missing


@dataclasses.dataclass(frozen=True)
class Explanation:
  """What a report embeds from an explanation folder."""
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


def validate(document: Dict[str, Any], folder: Optional[str] = None) -> None:
  """Raises ValueError unless `document` keeps the contract (and, given the
  folder, every figure file exists in it)."""
  required = {'model_uri': str, 'pushed': bool, 'figures': list,
              'seconds': float}
  for key, kind in required.items():
    if key not in document:
      raise ValueError(f'explanation lacks {key!r}')
    if not isinstance(document[key], kind):
      raise ValueError(f'explanation {key!r} must be {kind.__name__}, got '
                       f'{type(document[key]).__name__}')
  for entry in document['figures']:
    if set(entry) != {'file', 'section', 'title', 'caption'}:
      raise ValueError(f'figure entry keys {sorted(entry)}')
    if entry['section'] not in SECTIONS:
      raise ValueError(f'figure section {entry["section"]!r} not in {SECTIONS}')
    if os.path.isabs(entry['file']) or entry['file'].startswith('..'):
      raise ValueError(f'figure file must be relative: {entry["file"]!r}')
    if not all(isinstance(entry[k], str) for k in entry):
      raise ValueError(f'figure entry values must be strings: {entry}')
    if folder is not None and not tf.io.gfile.exists(
        os.path.join(folder, entry['file'])):
      raise ValueError(f'figure file {entry["file"]} is missing in {folder}')


def write(folder: str, *, model_uri: str, pushed: bool,
          figures: Sequence[FigureEntry], seconds: float,
          **extra: Any) -> Dict[str, Any]:
  """Writes explanation.json into `folder` (local or gs://); returns it."""
  document: Dict[str, Any] = {
      'model_uri': str(model_uri),
      'pushed': bool(pushed),
      'figures': [dataclasses.asdict(f) for f in figures],
      'seconds': float(seconds),
  }
  clash = set(extra) & set(document)
  if clash:
    raise ValueError(f'extra keys clash with the contract: {sorted(clash)}')
  document.update(extra)
  validate(document, folder)
  tf.io.gfile.makedirs(folder)
  with tf.io.gfile.GFile(os.path.join(folder, EXPLANATION_FILE), 'w') as f:
    f.write(json.dumps(document, indent=2, sort_keys=False) + '\n')
  return document


def read_document(folder: str) -> Dict[str, Any]:
  """explanation.json of `folder` as written, validated with its figures."""
  with tf.io.gfile.GFile(os.path.join(folder, EXPLANATION_FILE)) as f:
    document = json.load(f)
  validate(document, folder)
  return document


def load(folder: Optional[str]) -> Optional[Explanation]:
  """The explanation in `folder` with its PNGs, or None when there is none."""
  if not folder:
    return None
  path = os.path.join(folder, EXPLANATION_FILE)
  if not tf.io.gfile.exists(path):
    return None
  with tf.io.gfile.GFile(path) as f:
    document = json.load(f)
  validate(document)
  figures = []
  for entry in document['figures']:
    figure_path = os.path.join(folder, entry['file'])
    png = None
    if tf.io.gfile.exists(figure_path):
      with tf.io.gfile.GFile(figure_path, 'rb') as f:
        png = f.read()
    figures.append(Figure(section=entry['section'], title=entry['title'],
                          caption=entry['caption'], path=figure_path,
                          png=png))
  return Explanation(model_uri=document['model_uri'],
                     pushed=document['pushed'], seconds=document['seconds'],
                     figures=figures)
