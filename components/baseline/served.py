"""Which model is being served: the newest SavedModel version in a folder.

The Pusher's filesystem destination holds one folder per push, named by its
Unix time (TF Serving's version layout): `BASE/1718000000/saved_model.pb`.
The newest version is the model being served, and so the baseline a new
candidate must not fall behind. A folder that is itself a SavedModel counts
as a single served version, so the baseline can also be pointed at one model.

A rerun of a pipeline whose model was pushed meets that very model in the
folder. Comparing a model with itself proves nothing, and it would make the
baseline of a rerun differ from the first run's, so versions whose content
equals the candidate's are skipped: the content digest covers every file of
the SavedModel, the same bytes the Pusher copied.

Everything goes through TFX's filesystem layer, so the folder may be local,
gs:// or any other scheme the image's TensorFlow reads.
"""

import dataclasses
import hashlib
import json
import os
from typing import Iterator, List, Optional

from absl import logging
from tfx.dsl.io import fileio
from tfx.utils import io_utils

SAVED_MODEL_FILES = ('saved_model.pb', 'saved_model.pbtxt')
_CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True)
class ServedVersion:
  """One served SavedModel: where it is, its version name and its content."""
  uri: str
  version: str  # '' when the source folder is itself the SavedModel
  digest: str


@dataclasses.dataclass(frozen=True)
class Selection:
  """The baseline chosen in `source`, or None when nothing else is served."""
  source: str
  served: Optional[ServedVersion]

  def to_json(self) -> str:
    """A stable string: equal selections give equal strings (a cache key)."""
    served = self.served
    return json.dumps({'source': self.source,
                       'uri': served.uri if served else '',
                       'version': served.version if served else '',
                       'digest': served.digest if served else ''},
                      sort_keys=True)

  @classmethod
  def from_json(cls, text: str) -> 'Selection':
    data = json.loads(text)
    served = (ServedVersion(uri=data['uri'], version=data['version'],
                            digest=data['digest'])
              if data['uri'] else None)
    return cls(source=data['source'], served=served)


def _name(entry: str) -> str:
  return entry.rstrip('/')


def is_saved_model(path: str) -> bool:
  return any(fileio.exists(os.path.join(path, name))
             for name in SAVED_MODEL_FILES)


def served_versions(source: str) -> List[str]:
  """Paths of the SavedModel versions in `source`, newest first.

  Versions are the numeric subfolders holding a SavedModel (the Pusher's and
  TF Serving's convention); anything else in the folder is ignored. A
  missing folder (nothing pushed yet) has no versions.
  """
  if is_saved_model(source):
    return [source]
  if not fileio.isdir(source):
    return []
  versions = []
  for entry in fileio.listdir(source):
    name = _name(entry)
    path = os.path.join(source, name)
    if name.isdigit() and is_saved_model(path):
      versions.append((int(name), path))
    else:
      logging.info('Not a served model version, ignored: %s', path)
  return [path for _, path in sorted(versions, reverse=True)]


def _files(root: str) -> Iterator[str]:
  """Paths of every file under `root`, relative to it, in sorted order."""
  root = _name(root)
  found = []
  for directory, _, files in fileio.walk(root):
    # Prefix arithmetic, not os.path.relpath, which would mangle 'gs://'.
    relative_dir = _name(directory)[len(root):].lstrip('/')
    found.extend(os.path.join(relative_dir, _name(name)) for name in files)
  return iter(sorted(found))


def content_digest(path: str) -> str:
  """sha256 over every file of a SavedModel folder: names and bytes."""
  digest = hashlib.sha256()
  for relative in _files(path):
    digest.update(relative.encode() + b'\0')
    with fileio.open(os.path.join(path, relative), 'rb') as f:
      while True:
        chunk = f.read(_CHUNK)
        if not chunk:
          break
        digest.update(chunk)
    digest.update(b'\0')
  return digest.hexdigest()


def select(source: str, candidate_dir: Optional[str]) -> Selection:
  """The newest served version in `source` that is not the candidate.

  Args:
    source: the folder of served versions (or one SavedModel folder).
    candidate_dir: the candidate's SavedModel folder; None when there is no
      candidate yet (the model a warm start begins from).
  """
  versions = served_versions(source)
  if not versions:
    return Selection(source=source, served=None)
  candidate = content_digest(candidate_dir) if candidate_dir else None
  for path in versions:
    digest = content_digest(path)
    if digest == candidate:
      logging.info('%s is the candidate itself; not a baseline', path)
      continue
    version = '' if path == source else os.path.basename(path)
    return Selection(source=source,
                     served=ServedVersion(uri=path, version=version,
                                          digest=digest))
  return Selection(source=source, served=None)


def copy_served(served: ServedVersion, destination: str) -> None:
  """Copies a served version to `destination` and checks it arrived intact.

  Raises:
    RuntimeError: the copy's content differs from the chosen version's
      (the version changed after it was chosen).
  """
  io_utils.copy_dir(served.uri, destination)
  copied = content_digest(destination)
  if copied != served.digest:
    raise RuntimeError(
        f'{served.uri} changed after it was chosen as the baseline '
        f'(content {copied[:12]}, expected {served.digest[:12]}); rerun')
