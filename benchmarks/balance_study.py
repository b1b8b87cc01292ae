"""The reference study's balancing methods, several seeds each, per cohort.

    python benchmarks/balance_study.py --work_dir /tmp/study          # all
    python benchmarks/balance_study.py --work_dir /tmp/study \\
        --methods bce weighted_bce --seeds 1 2 3 --json part1.json     # a part
    python benchmarks/balance_study.py --merge part1.json part2.json   # table

Generates one sample (default 13,000 images: its smallest test cohort,
Non-Young x Female, holds about 110 faces; at 10,000 it held 84) and converts
it once; then, per method and seed, runs `local_runner.py --data_dir ... --seed S` in its own output root
(so each model is judged alone; the warm-started method runs in the root of
the same seed's `bce` run, whose model is the one being served there) and
reads the Evaluator's metrics. It prints per output and cohort, for each
method, the mean accuracy, FPR and FNR over the seeds with their standard
deviation across seeds, and the mean of TFMA's 95% interval where the
Evaluator computed intervals. Parts run separately merge through their JSON.
These are generated-sample figures, never CelebA ones.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from typing import Any, Dict, List, Sequence, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pipeline_benchmark  # pylint: disable=g-bad-import-order

from components.celeba import synth
from components.contracts import evaluation as er
from components.contracts import local_layout
from components.contracts import metric_names
from components.contracts import node_ids
from components.contracts import run_results
from models import features
from pipeline import configs

# name -> (local_runner flags, method whose root it runs in after, or None)
METHODS: Dict[str, Any] = {
    'bce': (['--loss', 'bce'], None),
    'weighted_bce': (['--loss', 'weighted_bce'], None),
    'cohort_weighted_bce': (['--loss', 'cohort_weighted_bce'], None),
    'bce+oversample': (['--loss', 'bce', '--resample', 'oversample'], None),
    'bce+undersample': (['--loss', 'bce', '--resample', 'undersample'], None),
    'weighted_bce+warm_start': (['--loss', 'weighted_bce', '--warm_start'],
                                'bce'),
}
_MIN_COHORT_FACES = 100
METRICS = (metric_names.ACCURACY, metric_names.FALSE_POSITIVE_RATE,
           metric_names.FALSE_NEGATIVE_RATE)


def sample_name(num_images: int, seed: int) -> str:
  return f'celeba-{num_images}-seed{seed}'


def _sample_params(name: str) -> Tuple[int, int]:
  """(num_images, seed) back from sample_name's text."""
  _, num_images, seed = name.split('-')
  return int(num_images), int(seed[len('seed'):])


def test_ceiling(sample: str) -> Dict[str, Dict[str, float]]:
  """The sample's own label-noise ceiling on the test split, per slice."""
  test = {v: k for k, v in features.PARTITION_TO_SPLIT.items()}['test']
  return synth.split_ceiling(synth.plan(*_sample_params(sample)), test)


def _prepare_data(work: str, sample: str, num_images: int, seed: int) -> str:
  raw = os.path.join(work, 'data', sample)
  converted = os.path.join(work, 'data', f'{sample}-tfrecords')
  if not os.path.exists(os.path.join(raw, 'list_attr_celeba.txt')):
    subprocess.run([sys.executable, '-m', 'components.celeba', 'synth',
                    '--output_dir', raw, '--num_images', str(num_images),
                    '--seed', str(seed), '--workers', str(os.cpu_count())],
                   cwd=REPO, check=True)
  if not os.path.isdir(os.path.join(converted, 'test')):
    subprocess.run([sys.executable, '-m', 'components.celeba', 'convert',
                    '--celeba_dir', raw, '--output_dir', converted],
                   cwd=REPO, check=True)
  return converted


def _evaluate(root: str, run_id: str) -> Dict[str, Any]:
  """{output: {slice name: {metric: value, metric + '_interval': [lo, hi]}}}."""
  store = run_results.connect(local_layout.local_paths(root).metadata_path)
  run = run_results.load_run(store, configs.PIPELINE_NAME, run_id)
  evaluation = er.load_evaluation(
      run.nodes[node_ids.EVALUATOR].output_uri('evaluation'))
  result: Dict[str, Any] = {}
  candidate = evaluation.candidate()
  for output in features.LABEL_KEYS:
    for key in [er.OVERALL] + evaluation.cohorts():
      metrics = candidate[key][output]
      row = {'examples': metrics.get(metric_names.EXAMPLE_COUNT)}
      for metric in METRICS:
        row[metric] = metrics.get(metric)
        interval = metrics.interval(metric)
        if interval is not None:
          row[metric + '_interval'] = [interval.lower, interval.upper]
      result.setdefault(output, {})[er.slice_name(key)] = row
  return result


def _run(method: str, seed: int, work: str, sample: str, data_dir: str,
         extra: Sequence[str]) -> Dict[str, Any]:
  flags, after = METHODS[method]
  root = os.path.join(work, 'runs', sample, f'{after or method}-seed{seed}')
  os.makedirs(root, exist_ok=True)
  before = set(run_results.run_ids(
      run_results.connect(local_layout.local_paths(root).metadata_path),
      configs.PIPELINE_NAME)) if os.path.exists(
          local_layout.local_paths(root).metadata_path) else set()
  command = [sys.executable, os.path.join(REPO, 'local_runner.py'),
             '--data_dir', data_dir, '--output_root', root,
             '--seed', str(seed), '--no_explain', '--recheck', *flags, *extra]
  print('running:', ' '.join(command), flush=True)
  started = time.time()
  with open(os.path.join(root, f'{method}.log'), 'w') as log:
    done = subprocess.run(command, cwd=REPO, stdout=log,
                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
  if done.returncode not in (0, 3):  # pushed, or judged and not blessed
    raise SystemExit(f'{method} seed {seed} failed ({done.returncode}); see '
                     f'{root}/{method}.log')
  store = run_results.connect(local_layout.local_paths(root).metadata_path)
  (run_id,) = [r for r in run_results.run_ids(store, configs.PIPELINE_NAME)
               if r not in before]
  return {'sample': sample, 'seconds': time.time() - started,
          'blessed': done.returncode == 0, 'metrics': _evaluate(root, run_id)}


def _cell(values: List[float], intervals: List[List[float]]) -> str:
  values = [v for v in values if not math.isnan(v)]
  if not values:
    return 'n/a'
  mean = statistics.fmean(values)
  text = f'{mean:.1%}'
  if len(values) > 1:
    text += f' ±{statistics.stdev(values) * 100:.1f}'
  if intervals:
    half = statistics.fmean((hi - lo) / 2 for lo, hi in intervals)
    text += f' (CI ±{half * 100:.1f})'
  return text


def print_table(results: Dict[str, Dict[str, Any]]) -> None:
  """Per output, slice and metric: one column per method."""
  methods = [m for m in METHODS if m in results]
  seeds = {m: sorted(results[m], key=int) for m in methods}
  samples = {r.get('sample') for m in methods for r in results[m].values()}
  if len(samples) != 1:
    raise SystemExit(f'the parts were run on different samples: {samples}')
  print('\nGenerated sample (NOT CelebA), test split. Each cell: mean over '
        'seeds ± their standard deviation in points (CI: the mean half-width '
        "of TFMA's 95% interval).")
  print('seeds: ' + '; '.join(f'{m}: {", ".join(seeds[m])}' for m in methods))
  first_run = results[methods[0]][seeds[methods[0]][0]]
  first = first_run['metrics']
  ceiling = test_ceiling(first_run['sample'])
  print('ceiling: the accuracy of a model that reads every drawn cue, i.e. '
        'errs only on the faces whose label contradicts the picture')
  for metric in METRICS:
    with_ceiling = metric == metric_names.ACCURACY
    print(f'\n{metric}')
    print('| output | slice | faces | ' + ('ceiling | ' if with_ceiling else '')
          + ' | '.join(methods) + ' |')
    print('|---|---|---:|' + '---:|' * (len(methods) + with_ceiling))
    for output in features.LABEL_KEYS:
      for name in first[output]:
        cells = [f'{ceiling[output][name]:.1%}'] if with_ceiling else []
        for m in methods:
          rows = [results[m][s]['metrics'][output][name] for s in seeds[m]]
          cells.append(_cell([r[metric] for r in rows],
                             [r[metric + '_interval'] for r in rows
                              if metric + '_interval' in r]))
        faces = first[output][name]['examples']
        print(f'| {output} | {name} | {faces:.0f} | ' + ' | '.join(cells) +
              ' |')
  smallest = min(first[output][name]['examples']
                 for output in features.LABEL_KEYS for name in first[output])
  if smallest < _MIN_COHORT_FACES:
    print(f'\nWARNING: the smallest test cohort holds {smallest:.0f} faces, '
          f'fewer than {_MIN_COHORT_FACES}: use a larger --sample_images.')
  total = sum(r['seconds'] for m in methods for r in results[m].values())
  print(f'\n{sum(len(v) for v in seeds.values())} runs, {total / 60:.0f} '
        'minutes of pipeline runs')


def _merge(paths: Sequence[str]) -> Dict[str, Dict[str, Any]]:
  merged: Dict[str, Dict[str, Any]] = {}
  for path in paths:
    with open(path, encoding='utf-8') as f:
      for method, by_seed in json.load(f).items():
        merged.setdefault(method, {}).update(by_seed)
  return merged


def main() -> int:
  argv, extra = pipeline_benchmark.split_passthrough(sys.argv[1:])
  parser = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--work_dir', help='data and one output root per run')
  parser.add_argument('--methods', nargs='+', choices=list(METHODS),
                      default=list(METHODS))
  parser.add_argument('--seeds', nargs='+', type=int, default=[1, 2, 3])
  parser.add_argument('--sample_images', type=int, default=13_000)
  parser.add_argument('--sample_seed', type=int, default=0)
  parser.add_argument('--json', help='write this part\'s results here')
  parser.add_argument('--merge', nargs='+', metavar='JSON',
                      help='print the table of parts already run')
  args = parser.parse_args(argv)
  if args.merge:
    print_table(_merge(args.merge))
    return 0
  if not args.work_dir:
    parser.error('--work_dir is needed to run the study')
  sample = sample_name(args.sample_images, args.sample_seed)
  data_dir = _prepare_data(args.work_dir, sample, args.sample_images,
                           args.sample_seed)
  results: Dict[str, Dict[str, Any]] = {}
  # A warm start needs its base model's run first.
  order = sorted(args.methods, key=lambda m: METHODS[m][1] is not None)
  for method in order:
    after = METHODS[method][1]
    if after and after not in args.methods:
      print(f'{method} starts from the {after} model of the same seed: run '
            f'{after} in this part or before it, in this work_dir',
            flush=True)
    for seed in args.seeds:
      results.setdefault(method, {})[str(seed)] = _run(
          method, seed, args.work_dir, sample, data_dir, extra)
      if args.json:  # after every run, so a stopped study keeps its part
        with open(args.json, 'w', encoding='utf-8') as f:
          json.dump(results, f, indent=1)
  print_table(results)
  return 0


if __name__ == '__main__':
  sys.exit(main())
