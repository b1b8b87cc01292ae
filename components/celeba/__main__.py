"""Command line for the CelebA data tools; `--help` on each subcommand.

Exit status: 0 success; 2 bad input (an unusable argument, a CelebA file that
is malformed or, without --skip_bad, a bad image, an output folder holding
foreign files, or no space left for the output), reported as
`error: <path>:<line>: <message>` on stderr; 1 anything unexpected (with a
traceback); 130 interrupted.
"""

import argparse
import errno
import logging
import os
import signal
import sys
import time
from typing import List, Optional

# Before anything can import TensorFlow (convert does, in this process or in
# its spawned workers, which inherit the environment).
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from components.celeba import convert as convert_lib  # pylint: disable=g-import-not-at-top
from components.celeba import synth as synth_lib
from components.celeba import errors

EXIT_BAD_INPUT = 2


def _positive(text: str) -> int:
  value = int(text)
  if value < 1:
    raise argparse.ArgumentTypeError(f'must be at least 1, got {value}')
  return value


def _parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
      prog='python -m components.celeba',
      description='CelebA data tools: convert a CelebA copy to TFRecords, or '
                  'generate a look-alike sample in CelebA\'s layout.',
      epilog='Exit status: 0 ok, 2 bad input (message: error: <path>:<line>: '
             '<what>), 1 unexpected failure, 130 interrupted.')
  sub = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')

  conv = sub.add_parser(
      'convert',
      help='CelebA (official, Kaggle or TFDS layout) -> GZIP TFRecords',
      description='Convert CelebA to GZIP TFRecords of tf.train.Example under '
                  'OUT/train, OUT/eval and OUT/test (partitions 0, 1, 2), '
                  'then write OUT/conversion.json. Tables are validated '
                  'before any image is read; nothing is replaced unless '
                  'every image passes.')
  conv.add_argument(
      '--celeba_dir', required=True,
      help='folder with list_attr_celeba.txt, list_eval_partition.txt and '
           'img_align_celeba/ (official), or the .csv tables and '
           'img_align_celeba/img_align_celeba/ (Kaggle), or a TFDS-prepared '
           'celeb_a version folder such as '
           '~/tensorflow_datasets/celeb_a/2.1.0 (or its parent)')
  conv.add_argument('--output_dir', required=True, help='where the splits go')
  conv.add_argument(
      '--skip_bad', action='store_true',
      help='skip bad images (undecodable, missing, no partition, bad '
           'values in their row), list them in OUT/rejected.csv and '
           'convert the rest; malformed headers stay fatal')
  conv.add_argument('--num_shards', type=_positive, default=None,
                    help=f'files per split (default: one per '
                         f'{convert_lib.SHARD_BYTES >> 20} MB of images; for '
                         'a TFDS folder, one per TFDS shard)')
  conv.add_argument('--workers', type=_positive, default=None,
                    help='writer processes (default: the usable cores, one for '
                         'small inputs)')
  conv.add_argument('--quiet', action='store_true', help='no progress output')

  syn = sub.add_parser(
      'synth', help='generate a CelebA look-alike in the official layout',
      description=
      'Write generated faces and tables in CelebA\'s official layout. '
      f'Label noise: Male {synth_lib.MALE_LABEL_NOISE:.0%}, Young '
      f'{synth_lib.YOUNG_LABEL_NOISE:.0%} (best achievable accuracy '
      f'{1 - synth_lib.MALE_LABEL_NOISE:.0%} and '
      f'{1 - synth_lib.YOUNG_LABEL_NOISE:.0%}). Same seed and count, '
      'same bytes.')
  syn.add_argument('--output_dir', required=True,
                   help='folder to write (empty or new)')
  syn.add_argument('--num_images', type=_positive, default=1500,
                   help='number of images (default 1500)')
  syn.add_argument('--seed', type=int, default=0,
                   help='random seed (default 0)')
  syn.add_argument('--overwrite', action='store_true',
                   help='replace a generated set already in --output_dir')
  syn.add_argument('--workers', type=_positive, default=None,
                   help='drawing processes (default: the usable cores, one '
                        'for small sets); any number writes the same bytes')
  syn.add_argument('--quiet', action='store_true', help='no progress output')
  return parser


def _convert(args: argparse.Namespace) -> int:
  result = convert_lib.convert(
      args.celeba_dir, args.output_dir, skip_bad=args.skip_bad,
      num_shards=args.num_shards, workers=args.workers, progress=not args.quiet)
  rate = result.total / max(result.seconds, 1e-9)
  print(f'converted {result.total:,} images ({result.layout} layout) in '
        f'{result.seconds:.1f} s, {rate:,.0f} img/s, {result.processes} '
        f'process{"es" if result.processes > 1 else ""}')
  for split, count in result.counts.items():
    print(f'  {split:<5} {count:>9,}  files: {len(result.files[split])}')
  if args.skip_bad:
    print(f'rejected {len(result.rejections):,} images, listed in '
          f'{os.path.join(args.output_dir, convert_lib.REJECTED_FILE)}')
  if result.unlisted_images:
    print(f'ignored {result.unlisted_images:,} JPEGs that no table lists')
  return 0


class _ProgressLines:
  """Prints a line per tenth of the images written (stderr)."""

  def __init__(self):
    self._tenths = 0

  def __call__(self, done: int, total: int) -> None:
    tenths = done * 10 // total
    if total >= 2000 and tenths > self._tenths:
      self._tenths = tenths
      print(f'  {done:,}/{total:,} images ({done / total:.0%})',
            file=sys.stderr, flush=True)


def _synth(args: argparse.Namespace) -> int:
  started = time.monotonic()
  report = _ProgressLines()
  summary = synth_lib.synthesize(
      args.output_dir, args.num_images, args.seed, overwrite=args.overwrite,
      workers=args.workers, progress=None if args.quiet else report)
  parts = ', '.join(f'{name} {summary.partition_counts[k]:,}'
                    for k, name in enumerate(('train', 'eval', 'test')))
  seconds = time.monotonic() - started
  print(f'wrote {summary.num_images:,} images of {summary.num_identities:,} '
        f'identities to {summary.output_dir} in {seconds:.1f} s ({parts})')
  rates = ', '.join(f'{k} {v:.3f}' for k, v in summary.label_rates.items())
  print(f'label rates: {rates}; best achievable accuracy: '
        f'{synth_lib.best_achievable_accuracy()}')
  return 0


def main(argv: Optional[List[str]] = None) -> int:
  args = _parser().parse_args(argv)
  logging.basicConfig(level=logging.INFO, format='%(levelname)s: %(message)s')
  # A plain `kill` then unwinds like Ctrl-C, so the temporary folder is removed.
  signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
  try:
    return _convert(args) if args.command == 'convert' else _synth(args)
  except errors.CelebAFormatError as e:
    print(f'error: {e}', file=sys.stderr)
    return EXIT_BAD_INPUT
  except (FileExistsError, ValueError) as e:
    print(f'error: {e}', file=sys.stderr)
    return EXIT_BAD_INPUT
  except OSError as e:
    if e.errno != errno.ENOSPC:
      raise
    where = e.filename or getattr(args, 'output_dir', '')
    print(f'error: {where}: no space left on the disk; nothing was replaced '
          '(free some space and run again)', file=sys.stderr)
    return EXIT_BAD_INPUT
  except KeyboardInterrupt:
    print('interrupted', file=sys.stderr)
    return 130


if __name__ == '__main__':
  sys.exit(main())
