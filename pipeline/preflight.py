"""The local runner's flags, checked before any work and any write.

A flag that cannot work used to be found out late: `--epochs -1` trained
nothing and exited 0 minutes later, `--image_size 7` and a missing
`--weights` file failed only after the sample was generated and converted,
or at the Trainer. Everything that can be checked cheaply is checked here,
in a fraction of a second and without TensorFlow: the model overrides (by
building the configuration they produce), the weights file (models.weights),
the data folders, and that the output root can be written. Nothing is
created until every check has passed.
"""

import argparse
import glob
import os
from typing import Optional

from components.celeba import errors as celeba_errors
from components.celeba import layout
from components.celeba import local_data
from components.celeba import synth
from models import features
from models import weights as weights_lib
from pipeline import configs
from pipeline import model_flags

# Fewer images leave some Male x Young cohort out of the test split.
MIN_SAMPLE_IMAGES = 100


class BadInputError(ValueError):
  """A flag or a data folder this run cannot use; the message says which."""


def _writable(path: str) -> bool:
  """Whether `path` exists writable, or could be created."""
  path = os.path.abspath(path)
  while not os.path.exists(path):
    parent = os.path.dirname(path)
    if parent == path:
      return False
    path = parent
  return os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK)


def _check_data_dir(data_dir: str) -> None:
  if not os.path.isdir(data_dir):
    raise BadInputError(f'--data_dir {data_dir}: no such folder')
  for split in features.SPLITS:
    if not glob.glob(os.path.join(data_dir, split, '*.tfrecord.gz')):
      raise BadInputError(
          f'--data_dir {data_dir}: no {split}/*.tfrecord.gz; it must hold '
          f'{", ".join(features.SPLITS)} folders of GZIP TFRecords (the '
          'output of `python -m components.celeba convert`)')


def _check_celeba_dir(celeba_dir: str) -> None:
  if not os.path.isdir(celeba_dir):
    raise BadInputError(f'--celeba_dir {celeba_dir}: no such folder')
  try:
    layout.detect_layout(celeba_dir)
  except celeba_errors.CelebAFormatError as e:
    raise BadInputError(str(e)) from None


def likely_preset(args: argparse.Namespace) -> str:
  """The preset the run will use, as far as it can be told before any work."""
  if args.preset:
    return args.preset
  if args.data_dir:
    generated = local_data.is_generated(args.data_dir)
    count = local_data.num_examples(args.data_dir)
  elif args.celeba_dir:
    generated = os.path.exists(os.path.join(args.celeba_dir, synth.INFO_FILE))
    count = None
  else:
    generated, count = True, args.sample_images
  return configs.choose_preset(generated, count)[0]


def check(args: argparse.Namespace) -> None:
  """Raises BadInputError for the first flag this run cannot use."""
  if args.data_dir and args.celeba_dir:
    raise BadInputError('give --data_dir or --celeba_dir, not both')
  if args.data_dir:
    _check_data_dir(args.data_dir)
  elif args.celeba_dir:
    _check_celeba_dir(args.celeba_dir)
  elif args.sample_images < MIN_SAMPLE_IMAGES:
    raise BadInputError(
        f'--sample_images must be at least {MIN_SAMPLE_IMAGES} (every '
        f'gender x age cohort needs test faces), got {args.sample_images}')
  if args.direct_num_workers is not None and args.direct_num_workers < 0:
    raise BadInputError('--direct_num_workers must be >= 0 (0: one per CPU), '
                        f'got {args.direct_num_workers}')
  try:
    config = configs.for_run(preset=likely_preset(args),
                             **model_flags.model_overrides(args))
  except ValueError as e:
    raise BadInputError(f'--{e}') from None
  try:
    weights_lib.check_weights(config.model.weights, config.model.alpha)
  except weights_lib.WeightsUnavailableError as e:
    raise BadInputError(f'--weights: {e}') from None
  for flag in ('output_root', 'pipeline_root', 'serving_dir'):
    path: Optional[str] = getattr(args, flag)
    if path and not _writable(path):
      raise BadInputError(f'--{flag} {path}: cannot be written')
