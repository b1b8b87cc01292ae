"""A rehearsal of the real run: CelebA's size and layout, the celeba preset.

    python benchmarks/celeba_scale.py --data_root /data/generated
    python benchmarks/celeba_scale.py --data_root /data/generated \\
        --steps_per_epoch 20 --fraction 8

Generates (or reuses) a full-size set in CelebA's official layout
(202,599 generated faces, `python -m components.celeba synth`), and one of
1/FRACTION of that size, then runs `local_runner.py --preset celeba` (224 px,
alpha 1.0) on each with a stand-in for the ImageNet weights file: a randomly
initialised MobileNetV2 without its top, saved by this script, so that the
frozen-backbone-then-fine-tune path runs as it does with real weights.
Training is cut to --epochs x --steps_per_epoch; ACCURACY MEANS NOTHING
HERE: the data is drawn, and the backbone random.

Per component it prints, for both sizes, the wall time, the peak RSS of the
whole process tree and its growth over what the component started with, and
the bytes of the component's outputs, then the ratio of each figure between
the sizes (full / small) and the bounds the pipeline is held to at full size:
no data stage grows by more than 1.5 GiB nor by more than 1.3x its growth at
the small size (unless it grows by less than 0.25 GiB at full size, where the
ratio measures the allocator rather than the data), no data stage takes more
than 9x its small-size time, the explanation is at most 50 MB, and the whole
run stays within 12 GiB.
"""

import argparse
import json
import os
import subprocess
import sys
from typing import Any, Dict, List

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pipeline_benchmark  # pylint: disable=g-bad-import-order

from components.contracts import node_ids

CELEBA_IMAGES = 202_599
DATA_STAGES = (node_ids.EXAMPLE_GEN, node_ids.STATISTICS_GEN,
               node_ids.TRANSFORM, node_ids.EVALUATOR, node_ids.EXPLAINER)
MAX_STAGE_GROWTH = 1.5 * 2**30
MAX_GROWTH_RATIO = 1.3
GROWTH_RATIO_FLOOR = 2**28
MAX_TIME_RATIO = 9.0
MAX_EXPLANATION_BYTES = 50 * 2**20
MAX_RUN_RSS = 12 * 2**30

_STAND_IN = '''
import os
import models  # sets the TensorFlow environment
import tf_keras
net = tf_keras.applications.MobileNetV2(
    input_shape=(224, 224, 3), alpha=1.0, include_top=False, weights=None)
net.save_weights({path!r})
'''


def _ensure_generated(folder: str, num_images: int, seed: int,
                      workers: int) -> None:
  if os.path.exists(os.path.join(folder, 'list_attr_celeba.txt')):
    print(f'reusing {folder}', flush=True)
    return
  subprocess.run([sys.executable, '-m', 'components.celeba', 'synth',
                  '--output_dir', folder, '--num_images', str(num_images),
                  '--seed', str(seed), '--workers', str(workers)],
                 cwd=REPO, check=True)


def _ensure_stand_in(path: str) -> None:
  if not os.path.exists(path):
    subprocess.run([sys.executable, '-c', _STAND_IN.format(path=path)],
                   cwd=REPO, check=True)


def _run_size(celeba_dir: str, output_root: str, weights: str,
              args: argparse.Namespace) -> Dict[str, Any]:
  os.makedirs(output_root, exist_ok=True)
  command = [sys.executable, os.path.join(REPO, 'local_runner.py'),
             '--celeba_dir', celeba_dir, '--output_root', output_root,
             '--preset', 'celeba', '--weights', weights,
             '--epochs', str(args.epochs),
             '--steps_per_epoch', str(args.steps_per_epoch),
             '--disable_cache']
  result = pipeline_benchmark.measure_run(command, output_root)
  if result['returncode'] not in (0, 3):
    raise SystemExit(f'local_runner.py failed ({result["returncode"]}); '
                     f'see {output_root}/run.log')
  pipeline_benchmark.print_components(result)
  return result


def _ratio(full: float, small: float) -> float:
  return full / small if small else float('nan')


def _bounds(full: Dict[str, Any], small: Dict[str, Any]) -> List[str]:
  """One line per bound: PASS or FAIL, with the figures."""
  lines = []
  for node_id in DATA_STAGES:
    f, s = full['components'].get(node_id), small['components'].get(node_id)
    if f is None or s is None:
      continue
    growth = f['rss_growth']
    lines.append(f'{"PASS" if growth <= MAX_STAGE_GROWTH else "FAIL"} '
                 f'{node_id} grows {growth / 2**30:.2f} GiB (at most 1.5)')
    # A ratio of two growths of a few dozen MiB measures the allocator and
    # the RSS sampling, not the data: under the floor at full size, it passes.
    ratio = _ratio(growth, s['rss_growth'])
    flat = ratio <= MAX_GROWTH_RATIO or growth < GROWTH_RATIO_FLOOR
    lines.append(f'{"PASS" if flat else "FAIL"} {node_id} growth ratio '
                 f'{ratio:.2f} (at most {MAX_GROWTH_RATIO}, or growth under '
                 f'{GROWTH_RATIO_FLOOR / 2**30:.2f} GiB at full size)')
    ratio = _ratio(f['seconds'], s['seconds'])
    lines.append(f'{"PASS" if ratio <= MAX_TIME_RATIO else "FAIL"} '
                 f'{node_id} time ratio {ratio:.2f} (at most '
                 f'{MAX_TIME_RATIO:g})')
  explanation = full['components'].get(node_ids.EXPLAINER)
  if explanation is not None:
    size = explanation['output_bytes']
    lines.append(f'{"PASS" if size <= MAX_EXPLANATION_BYTES else "FAIL"} '
                 f'explanation {size / 2**20:.1f} MB (at most 50)')
  peak = full['peak_rss']
  lines.append(f'{"PASS" if peak <= MAX_RUN_RSS else "FAIL"} whole run peak '
               f'{peak / 2**30:.2f} GiB (at most 12)')
  return lines


def main() -> int:
  parser = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--data_root', required=True,
                      help='where the generated sets are (or are written)')
  parser.add_argument('--output_root',
                      help='pipeline outputs (default DATA_ROOT/runs)')
  parser.add_argument('--num_images', type=int, default=CELEBA_IMAGES)
  parser.add_argument('--fraction', type=int, default=8,
                      help='the small size is NUM_IMAGES / FRACTION')
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--workers', type=int, default=os.cpu_count() or 1,
                      help='generator processes')
  parser.add_argument('--epochs', type=int, default=1)
  parser.add_argument('--steps_per_epoch', type=int, default=20)
  parser.add_argument('--json', help='also write the figures here')
  args = parser.parse_args()
  output_root = args.output_root or os.path.join(args.data_root, 'runs')
  os.makedirs(output_root, exist_ok=True)
  weights = os.path.join(args.data_root, 'stand_in_mobilenet_v2_1.0_224.h5')
  _ensure_stand_in(weights)
  print('The backbone is a random stand-in and the data is generated: '
        'accuracy means nothing here; time, memory and bytes do.', flush=True)

  sizes = {'full': args.num_images,
           'small': args.num_images // args.fraction}
  results = {}
  for name, num_images in sizes.items():
    folder = os.path.join(args.data_root,
                          f'celeba-{num_images}-seed{args.seed}')
    _ensure_generated(folder, num_images, args.seed, args.workers)
    print(f'\n== {name}: {num_images:,} images', flush=True)
    results[name] = _run_size(folder, os.path.join(output_root, name),
                              weights, args)

  full, small = results['full'], results['small']
  print(f'\n{"component":<28} {"time ratio":>10} {"growth ratio":>12} '
        f'{"bytes ratio":>11}   (full / small = {args.fraction}x images)')
  for node_id in full['order']:
    f, s = full['components'][node_id], small['components'].get(node_id)
    if s is None:
      continue
    print(f'{node_id:<28} {_ratio(f["seconds"], s["seconds"]):10.2f} '
          f'{_ratio(f["rss_growth"], s["rss_growth"]):12.2f} '
          f'{_ratio(f["output_bytes"], s["output_bytes"]):11.2f}')
  print(f'{"whole command":<28} '
        f'{_ratio(full["total_seconds"], small["total_seconds"]):10.2f}')
  print()
  bounds = _bounds(full, small)
  print('\n'.join(bounds))
  if args.json:
    with open(args.json, 'w', encoding='utf-8') as f:
      json.dump({'sizes': sizes, 'results': results, 'bounds': bounds}, f,
                indent=1)
  return 1 if any(line.startswith('FAIL') for line in bounds) else 0


if __name__ == '__main__':
  sys.exit(main())
