"""Command line: probabilities and labels for JPEG files from a pushed model.

  python -m components.predict --model outputs/serving_model \\
      photos/ a.jpg 'more/**/*.jpg' --output predictions.csv

Writes a CSV (to stdout without --output) with a header and one row per
file: `file`, the probability of each output (`Male_probability`,
`Young_probability`), its label at the threshold the model was judged at
(`Male`, `Young`: 1 above it, else 0), the `cohort` those labels name, and
`error`, empty unless the file could not be predicted.

Exit status: 0 every file predicted; 2 bad input: a file that is not a
decodable JPEG or an argument that names no file (each gets a row with its
error, the other files are still predicted), or a --model without a usable
SavedModel (`error: <path>: <message>` on stderr); 1 anything unexpected;
130 interrupted (Ctrl-C or SIGTERM; the --output file is not written).
"""

import argparse
import csv
import os
import signal
import sys
import time
from typing import List, Optional, TextIO

# Before anything imports TensorFlow.
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from components import interrupts
from components.contracts import metric_names
from components.predict import inputs as inputs_lib
from models import features

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def _positive(text: str) -> int:
  value = int(text)
  if value < 1:
    raise argparse.ArgumentTypeError(f'must be at least 1, got {value}')
  return value


def _parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
      prog='python -m components.predict',
      description='Run a pushed model\'s serving_jpeg signature on JPEG '
                  'files and write one CSV row per file: the probability of '
                  'Male and of Young and the label each gets at the decision '
                  'threshold the model was evaluated at '
                  f'({metric_names.DECISION_THRESHOLD}).',
      epilog='Exit status: 0 ok, 2 bad input (a file that could not be '
      'predicted has its error in the CSV), 1 unexpected failure, '
      '130 interrupted (Ctrl-C or SIGTERM).')
  parser.add_argument('--model', required=True,
                      help='the serving folder a run pushes to (its newest '
                           'version is used), one version folder, or any '
                           'SavedModel exported by the Trainer')
  parser.add_argument('images', nargs='+', metavar='IMAGE|DIR|GLOB',
                      help='JPEG files, folders (their .jpg/.jpeg files) or '
                           'quoted patterns such as \'photos/**/*.jpg\'')
  parser.add_argument('--output', default='-',
                      help='CSV file to write (default: standard output)')
  parser.add_argument('--batch_size', type=_positive, default=None,
                      help='images per call of the signature (default 32)')
  parser.add_argument('--quiet', action='store_true',
                      help='no progress bar or summary on stderr')
  return parser


def _header(outputs: List[str]) -> List[str]:
  header = ['file'] + [f'{o}_probability' for o in outputs] + list(outputs)
  if set(features.LABEL_KEYS) <= set(outputs):
    header.append('cohort')
  return header + ['error']


def _row(prediction, outputs: List[str], with_cohort: bool) -> List[str]:
  if prediction.error:
    return ([prediction.file] + [''] * (2 * len(outputs) + with_cohort) +
            [prediction.error])
  labels = [prediction.label(o) for o in outputs]
  row = ([prediction.file] +
         [f'{prediction.probabilities[o]:.6f}' for o in outputs] +
         [str(v) for v in labels])
  if with_cohort:
    row.append(features.cohort_name(prediction.label(features.MALE_KEY),
                                    prediction.label(features.YOUNG_KEY)))
  return row + ['']


def _progress_bar(total: int, batch_size: int, quiet: bool):
  """A tqdm bar on a terminal when there is more than one batch, else None."""
  if quiet or total <= batch_size or not sys.stderr.isatty():
    return None
  from tqdm import tqdm  # pylint: disable=g-import-not-at-top
  return tqdm(total=total, unit='img', file=sys.stderr)


def _predict(args: argparse.Namespace, out: TextIO) -> int:
  # pylint: disable=g-import-not-at-top
  from components.predict import predictor as predictor_lib
  # pylint: enable=g-import-not-at-top
  batch_size = args.batch_size or predictor_lib.DEFAULT_BATCH_SIZE
  items = inputs_lib.expand(args.images)
  predictor = predictor_lib.Predictor(args.model)
  outputs = predictor.outputs
  header = _header(outputs)
  writer = csv.writer(out)
  writer.writerow(header)
  bar = _progress_bar(len(items), batch_size, args.quiet)
  started = time.monotonic()
  failed = 0
  try:
    for prediction in predictor_lib.predict_files(
        predictor, items, batch_size, bar.update if bar else None):
      writer.writerow(_row(prediction, outputs, 'cohort' in header))
      failed += bool(prediction.error)
  finally:
    if bar is not None:
      bar.close()
  seconds = time.monotonic() - started
  if not args.quiet:
    done = len(items) - failed
    print(f'predicted {done:,} of {len(items):,} files with '
          f'{predictor.model_dir} in {seconds:.1f} s '
          f'({done / max(seconds, 1e-9):,.1f} img/s); labels: probability > '
          f'{metric_names.DECISION_THRESHOLD}', file=sys.stderr)
    if failed:
      print(f'{failed:,} file{"s" if failed > 1 else ""} could not be '
            'predicted: see the error column', file=sys.stderr)
  return EXIT_BAD_INPUT if failed else 0


def _run(args: argparse.Namespace) -> int:
  """Predicts inside `interrupts.retried()`, so a stop that TensorFlow drops
  is raised again; the half-written CSV is removed outside it."""
  if args.output == '-':
    with interrupts.retried():
      return _predict(args, sys.stdout)
  part = f'{args.output}.part'
  try:
    with open(part, 'w', newline='', encoding='utf-8') as out, (
        interrupts.retried()):
      status = _predict(args, out)
    os.replace(part, args.output)
  finally:
    if os.path.exists(part):
      os.remove(part)
  return status


def main(argv: Optional[List[str]] = None) -> int:
  args = _parser().parse_args(argv)
  # SIGTERM stops it the way Ctrl-C does, inside TensorFlow too.
  interrupts.install({
      signal.SIGINT: KeyboardInterrupt,
      signal.SIGTERM: lambda: KeyboardInterrupt('SIGTERM')})
  try:
    return _run(args)
  except (KeyboardInterrupt, Exception) as e:  # pylint: disable=broad-except
    # A stop can surface as another error from inside TensorFlow.
    stop = interrupts.stop_behind(e)
    if stop is not None:
      reason = str(stop)
      print(f'interrupted{f" ({reason})" if reason else ""}',
            file=sys.stderr)
      return EXIT_INTERRUPTED
    if isinstance(e, (FileNotFoundError, ValueError)):
      print(f'error: {e}', file=sys.stderr)
      return EXIT_BAD_INPUT
    raise


if __name__ == '__main__':
  sys.exit(main())
