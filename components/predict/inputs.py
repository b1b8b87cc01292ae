"""Turns the command line's IMAGE, DIR and GLOB arguments into files.

A folder gives its own `.jpg` / `.jpeg` files (any case), not its
subfolders': `DIR/**/*.jpg` (quoted, so the shell leaves it alone) reaches
those. A file named outright is taken whatever its name, and judged by its
bytes. An argument that names nothing is kept as a problem, so it gets a row
in the output (and a non-zero exit) rather than vanishing.
"""

import dataclasses
import glob
import os
from typing import List, Sequence

_JPEG_SUFFIXES = ('.jpg', '.jpeg')
_GLOB_CHARS = frozenset('*?[')


@dataclasses.dataclass(frozen=True)
class Input:
  """One file to predict, or an argument that named none (`problem` set)."""
  path: str
  problem: str = ''


def _folder(path: str) -> List[str]:
  with os.scandir(path) as entries:
    return sorted(os.path.join(path, e.name) for e in entries
                  if e.name.lower().endswith(_JPEG_SUFFIXES) and e.is_file())


def expand(arguments: Sequence[str]) -> List[Input]:
  """The files the arguments name, in argument order, each once."""
  found: List[Input] = []
  seen = set()

  def add(item: Input) -> None:
    key = os.path.normpath(item.path)
    if key not in seen:
      seen.add(key)
      found.append(item)

  for argument in arguments:
    if os.path.isdir(argument):
      files = _folder(argument)
      if not files:
        add(Input(argument,
                  'no_images: the folder holds no .jpg or .jpeg file'))
      for path in files:
        add(Input(path))
    elif os.path.exists(argument):
      add(Input(argument))
    elif _GLOB_CHARS & set(argument):
      files = sorted(p for p in glob.glob(argument, recursive=True)
                     if os.path.isfile(p))
      if not files:
        add(Input(argument, 'not_found: no file matches this pattern'))
      for path in files:
        add(Input(path))
    else:
      add(Input(argument, 'not_found: no such file or folder'))
  return found
