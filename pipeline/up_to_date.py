"""Knowing, before TensorFlow is imported, that a rerun would change nothing.

Rerun `python local_runner.py` with nothing changed and TFX finds every
component in its cache: the run does no work, but importing TFX, TFMA, TFDV,
Beam and TensorFlow and checking fourteen caches took 15-25 s of a 2-core
machine. Every input that decides those cache hits is known to this process
without them: the effective configuration, the data (the converter's
record, or the files), the curated schema, the project's code, the versions
of the TFX stack, the serving folder and the baseline folder when it is
another (the Evaluator's baseline is the model served there) and the
metadata store (no execution added since). After each completed run the
runner records a digest of all of them, with the run's summary and exit
status; a later run with the same digest prints that summary and stops.

The record is a shortcut, not a second cache: it is written only for a
completed run, read only with the root's lock held, and any difference, or
`--recheck`, sends the run through TFX as before.
"""

import dataclasses
import hashlib
import importlib.metadata
import json
import os
from typing import Any, Dict, List, Optional, Sequence

from components.contracts import run_results

RECORD_FILE = 'last_complete_run.json'
_STACK = ('tfx', 'tensorflow', 'tf-keras', 'tensorflow-transform',
          'tensorflow-model-analysis', 'tensorflow-data-validation',
          'apache-beam', 'ml-metadata')
_CODE_PACKAGES = ('models', 'components', 'pipeline', 'schema')
_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclasses.dataclass(frozen=True)
class Record:
  """What a completed run left for the next one to compare against."""
  digest: str
  run_id: str
  exit_status: int
  summary: str
  # Folders the summary points at; the shortcut is off if one is gone.
  outputs: List[str]


def _files_digest(paths: Sequence[str]) -> str:
  digest = hashlib.sha256()
  for path in sorted(paths):
    digest.update(os.path.relpath(path, _REPO).encode())
    with open(path, 'rb') as f:
      digest.update(f.read())
  return digest.hexdigest()


def _code_digest() -> str:
  paths = [os.path.join(_REPO, 'local_runner.py')]
  for package in _CODE_PACKAGES:
    for folder, _, names in os.walk(os.path.join(_REPO, package)):
      paths += [os.path.join(folder, n) for n in names
                if n.endswith(('.py', '.pbtxt'))]
  return _files_digest(paths)


def _listing(folder: str) -> List[List[Any]]:
  """(relative path, size, mtime) of every file under `folder`."""
  rows = []
  for root, _, names in os.walk(folder):
    for name in names:
      path = os.path.join(root, name)
      stat = os.stat(path)
      rows.append([os.path.relpath(path, folder), stat.st_size,
                   stat.st_mtime_ns])
  return sorted(rows)


def _data_state(data_root: str, marker_file: str) -> Any:
  """The converter's record when there is one (it fingerprints the source),
  else every file's size and modification time."""
  marker = os.path.join(data_root, marker_file)
  if os.path.exists(marker):
    with open(marker, encoding='utf-8') as f:
      return json.load(f)
  return _listing(data_root)


def _last_execution(metadata_path: str) -> Optional[int]:
  if not os.path.exists(metadata_path):
    return None
  executions = run_results.connect(metadata_path).get_executions()
  return max((e.id for e in executions), default=None)


def digest(*, config: Dict[str, Any], data_root: str, marker_file: str,
           serving_dir: str, metadata_path: str,
           beam_args: Sequence[str],
           baseline_dir: Optional[str] = None) -> str:
  """A digest of everything that decides whether TFX would find its cache."""
  versions = {}
  for package in _STACK:
    try:
      versions[package] = importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
      versions[package] = None
  state = {
      'config': config,
      'data_root': os.path.abspath(data_root),
      'data': _data_state(data_root, marker_file),
      'code': _code_digest(),
      'versions': versions,
      'beam_args': list(beam_args),
      'serving': (_listing(serving_dir) if os.path.isdir(serving_dir)
                  else None),
      # --baseline_dir: where ServedBaseline looks instead of serving_dir
      # (its path is part of the baseline's cache key too).
      'baseline': ([baseline_dir, _listing(baseline_dir)
                    if os.path.isdir(baseline_dir) else None]
                   if baseline_dir else None),
      'last_execution': _last_execution(metadata_path),
  }
  return hashlib.sha256(json.dumps(state, sort_keys=True,
                                   default=str).encode()).hexdigest()


def load(pipeline_root: str) -> Optional[Record]:
  """The record of the last completed run, if it is intact."""
  try:
    with open(os.path.join(pipeline_root, RECORD_FILE),
              encoding='utf-8') as f:
      record = Record(**json.load(f))
  except (OSError, ValueError, TypeError):
    return None
  if not all(os.path.exists(p) for p in record.outputs):
    return None
  return record


def save(pipeline_root: str, record: Record) -> None:
  """Writes the record atomically (a reader never sees half of it)."""
  path = os.path.join(pipeline_root, RECORD_FILE)
  part = f'{path}.part-{os.getpid()}'
  with open(part, 'w', encoding='utf-8') as f:
    json.dump(dataclasses.asdict(record), f, indent=1)
  os.replace(part, path)


def forget(pipeline_root: str) -> None:
  """Drops the record (before a run that may change what it describes)."""
  try:
    os.remove(os.path.join(pipeline_root, RECORD_FILE))
  except FileNotFoundError:
    pass
