"""`explanation.json`: what the explanation holds, for the reports that embed it.

The HTML report (another component) reads only this file to place the
figures, so its shape is a contract:

    {"model_uri": str,          # the SavedModel folder explained
     "pushed": bool,            # whether the Pusher pushed this model
     "figures": [{"file": "relative/path.png",        # from this folder
                  "section": "Latent space" | "Saliency",
                  "title": str, "caption": str}, ...],
     "seconds": float,          # wall time of the whole stage
     ...}                       # more keys, free for readers to ignore

`validate` checks it on write and on read, so a change that breaks the
report fails here, in this package's tests.
"""

import dataclasses
import json
import os
from typing import Any, Dict, List, Sequence

import tensorflow as tf

from components.explain import outputs

EXPLANATION_FILE = 'explanation.json'
LATENT_SPACE = 'Latent space'
SALIENCY = 'Saliency'
SECTIONS = (LATENT_SPACE, SALIENCY)


@dataclasses.dataclass
class FigureEntry:
  file: str
  section: str
  title: str
  caption: str


def validate(document: Dict[str, Any], folder: str = None) -> None:
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


def write_explanation(folder: str, *, model_uri: str, pushed: bool,
                      figures: Sequence[FigureEntry], seconds: float,
                      **extra: Any) -> Dict[str, Any]:
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
  outputs.write_text(os.path.join(folder, EXPLANATION_FILE),
                     json.dumps(document, indent=2, sort_keys=False) + '\n')
  return document


def load_explanation(folder: str) -> Dict[str, Any]:
  with tf.io.gfile.GFile(os.path.join(folder, EXPLANATION_FILE)) as f:
    document = json.load(f)
  validate(document, folder)
  return document


def figures_of(document: Dict[str, Any], section: str) -> List[Dict[str, str]]:
  return [f for f in document['figures'] if f['section'] == section]
