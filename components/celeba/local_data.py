"""Gets a local run its TFRecords: convert CelebA, or generate the sample.

A run is given one of: converted TFRecords (`--data_dir`), a raw CelebA folder
in any layout the converter reads (`--celeba_dir`, converted once and reused
while the source is unchanged), or nothing, in which case the built-in sample
is generated in CelebA's official layout and converted by the same code as
real data.
"""

import json
import logging
import os
import shutil
from typing import Optional

from components.celeba import convert
from components.celeba import synth
from models import features

_log = logging.getLogger(__name__)

# Shown beside every number measured on generated data, the built-in sample
# or a set of any size from `synth` (the console summary, the slice report,
# comparisons).
GENERATED_NOTE = ('Data: GENERATED faces (drawn by components.celeba synth '
                  "in CelebA's layout). These numbers say the pipeline works; "
                  'they are not CelebA results.')


def _has_splits(data_dir: str) -> bool:
  return all(os.path.isdir(os.path.join(data_dir, split))
             for split in features.SPLITS)


def ensure_converted(celeba_dir: str, output_dir: str,
                     skip_bad: bool = False) -> str:
  """Converts `celeba_dir` into `output_dir` unless that is already done."""
  if convert.is_converted(celeba_dir, output_dir):
    _log.info('%s already holds a conversion of %s; skipping conversion',
              output_dir, celeba_dir)
    return output_dir
  _log.info('Converting %s into %s', celeba_dir, output_dir)
  result = convert.convert(celeba_dir, output_dir, skip_bad=skip_bad,
                           progress=True)
  _log.info('Converted %s', result.counts)
  return output_dir


def _is_complete_sample(raw_dir: str, num_images: int, seed: int) -> bool:
  """Whether `raw_dir` holds the complete generated sample (num_images, seed)."""
  try:
    with open(os.path.join(raw_dir, synth.INFO_FILE), encoding='utf-8') as f:
      info = json.load(f)
    images = os.listdir(os.path.join(raw_dir, synth.IMAGES_DIR))
  except (OSError, ValueError):
    return False
  return (info.get('num_images') == num_images and info.get('seed') == seed
          and len(images) == num_images)


def _remove_dead_writers(raw_dir: str) -> None:
  """Removes `<raw_dir>.tmp-<pid>` folders whose writer process is gone."""
  parent, name = os.path.split(raw_dir)
  if not os.path.isdir(parent):
    return
  for entry in os.listdir(parent):
    pid = entry[len(name) + len('.tmp-'):]
    if entry.startswith(name + '.tmp-') and pid.isdigit():
      try:
        os.kill(int(pid), 0)
      except ProcessLookupError:
        shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)
      except PermissionError:
        pass


def ensure_sample(raw_dir: str, num_images: int, seed: int) -> str:
  """Generates the sample into `raw_dir` unless a complete one is there.

  The sample is written into a temporary folder beside `raw_dir` and renamed
  into place whole, so an interrupted or concurrent writer never leaves a
  half-written sample behind; one that an older version left is regenerated
  (it is ours: nothing else writes under the output root's sample folder).
  """
  if _is_complete_sample(raw_dir, num_images, seed):
    return raw_dir
  _remove_dead_writers(raw_dir)
  if os.path.exists(raw_dir):
    _log.warning('%s holds an incomplete generated sample; generating it '
                 'again', raw_dir)
    shutil.rmtree(raw_dir)
  _log.info('Generating the built-in sample (%d images, seed %d) in %s',
            num_images, seed, raw_dir)
  tmp = f'{raw_dir}.tmp-{os.getpid()}'
  shutil.rmtree(tmp, ignore_errors=True)
  try:
    synth.synthesize(tmp, num_images=num_images, seed=seed)
    try:
      os.rename(tmp, raw_dir)
    except OSError:
      # Another writer renamed its copy first: the same bytes, so keep it.
      if not _is_complete_sample(raw_dir, num_images, seed):
        raise
  finally:
    shutil.rmtree(tmp, ignore_errors=True)
  return raw_dir


def num_examples(data_root: str) -> Optional[int]:
  """Examples in converted TFRecords, from the conversion record if any."""
  total = (convert.read_marker(data_root) or {}).get('total')
  return int(total) if total is not None else None


def is_generated(data_root: str) -> bool:
  """Whether converted TFRecords came from the generated sample.

  Decided from the conversion record, so results on generated data are
  labelled as such however the run was started.
  """
  marker = convert.read_marker(data_root)
  source = (marker or {}).get('source_dir')
  return bool(source) and os.path.exists(os.path.join(source, synth.INFO_FILE))


def resolve_data_root(*, data_dir: Optional[str], celeba_dir: Optional[str],
                      converted_dir: str, sample_dir: str,
                      sample_images: int, sample_seed: int,
                      skip_bad: bool = False) -> str:
  """The folder of train/, eval/ and test/ TFRecords this run will read."""
  if data_dir:
    if not _has_splits(data_dir):
      raise FileNotFoundError(
          f'{data_dir} must hold {", ".join(features.SPLITS)} folders of '
          'TFRecords (the output of `python -m components.celeba convert`)')
    return data_dir
  if celeba_dir:
    return ensure_converted(celeba_dir, converted_dir, skip_bad=skip_bad)
  ensure_sample(sample_dir, sample_images, sample_seed)
  return ensure_converted(sample_dir, converted_dir)
