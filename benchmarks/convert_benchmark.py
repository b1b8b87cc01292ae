"""Times `convert` on a generated CelebA and projects the full data set's time.

  python benchmarks/convert_benchmark.py --num_images 20000

Generates N images in the official layout (components.celeba.synth; about
10 KB each, like CelebA's), converts them with the default settings (every
usable core, every JPEG decoded) and prints images/s and the projected time
for CelebA's 202,599 images. The target is under 10 minutes (> 340 img/s).

The projection is conservative in one way and optimistic in another: the
measured time includes fixed costs (table checks, TensorFlow's start-up in
each process) that do not grow with N, but the images were just written, so
they are read from the page cache; a cold disk can be slower. The CPU time
per image is printed too: unlike images/s it does not depend on what else the
machine is running (the load average before the run is shown for that).
"""

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.celeba import convert as conv
from components.celeba import synth

CELEBA_IMAGES = 202_599
TARGET_SECONDS = 600


def _generated_with(celeba: Path):
  try:
    info = json.loads((celeba / synth.INFO_FILE).read_text())
    return info['num_images'], info['seed']
  except (OSError, ValueError, KeyError):
    return None


def _cpu_seconds() -> float:
  # This process and its finished children (the converter's workers).
  own = resource.getrusage(resource.RUSAGE_SELF)
  kids = resource.getrusage(resource.RUSAGE_CHILDREN)
  return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--num_images', type=int, default=10_000)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--workers', type=int, default=None,
                      help='writer processes (default: as convert chooses)')
  parser.add_argument('--num_shards', type=int, default=None)
  parser.add_argument(
      '--work_dir', default=None,
      help='where to generate and convert (default: a temporary folder)')
  parser.add_argument('--keep', action='store_true',
                      help='keep the generated files')
  args = parser.parse_args()

  work = Path(args.work_dir or tempfile.mkdtemp(prefix='celeba-bench-'))
  celeba, out = work / 'celeba', work / 'out'
  try:
    started = time.monotonic()
    if _generated_with(celeba) == (args.num_images, args.seed):
      print(f'reusing the generated set in {celeba}')
    else:
      synth.synthesize(celeba, args.num_images, args.seed, overwrite=True)
      print(f'generated {args.num_images:,} images in '
            f'{time.monotonic() - started:.1f} s')
    shutil.rmtree(out, ignore_errors=True)
    size = sum(p.stat().st_size for p in (celeba / synth.IMAGES_DIR).iterdir())

    load = os.getloadavg()[0]
    started, cpu_before = time.monotonic(), _cpu_seconds()
    result = conv.convert(celeba, out, workers=args.workers,
                          num_shards=args.num_shards, progress=True)
    seconds = time.monotonic() - started
    cpu = _cpu_seconds() - cpu_before
    rate = result.total / seconds
    projected = CELEBA_IMAGES / rate
    print(
        f'converted {result.total:,} images '
        f'({size / result.total / 1024:.1f} KB each) in {seconds:.1f} s with '
        f'{result.processes} process(es), '
        f'{os.cpu_count()} CPUs, load average {load:.1f} before the run')
    print(f'throughput: {rate:,.0f} images/s; CPU time {cpu:.1f} s, '
          f'{cpu / result.total * 1000:.2f} ms per image')
    print(f'projected for {CELEBA_IMAGES:,} images: {projected:.0f} s '
          f'({projected / 60:.1f} min); target < {TARGET_SECONDS} s: '
          f'{"met" if projected < TARGET_SECONDS else "NOT met"}')
    return 0 if projected < TARGET_SECONDS else 1
  finally:
    if not args.keep and args.work_dir is None:
      shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
  sys.exit(main())
