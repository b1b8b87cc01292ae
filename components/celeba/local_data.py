"""Gets a local run its TFRecords: convert CelebA, or generate the sample.

A run is given one of: converted TFRecords (`--data_dir`), a raw CelebA folder
in any layout the converter reads (`--celeba_dir`, converted once and reused
while the source is unchanged), or nothing, in which case the built-in sample
is generated in CelebA's official layout and converted by the same code as
real data.
"""

import logging
import os
from typing import Optional

from components.celeba import convert
from components.celeba import synth
from models import features

_log = logging.getLogger(__name__)

# Shown beside every number measured on the generated sample (the console
# summary, the slice report, comparisons).
GENERATED_NOTE = ('Data: the built-in GENERATED sample (drawn faces in '
                  "CelebA's layout). These numbers say the pipeline works; "
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


def ensure_sample(raw_dir: str, num_images: int, seed: int) -> str:
  """Generates the sample into `raw_dir` unless a complete one is there."""
  if os.path.exists(os.path.join(raw_dir, synth.INFO_FILE)):
    return raw_dir
  _log.info('Generating the built-in sample (%d images, seed %d) in %s',
            num_images, seed, raw_dir)
  synth.synthesize(raw_dir, num_images=num_images, seed=seed, overwrite=True)
  return raw_dir


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
