"""1 vs 2 local Beam workers on the pipeline's data-heavy stages.

    python benchmarks/beam_workers_benchmark.py   # 3,000 and 30,000 images
    python benchmarks/beam_workers_benchmark.py --sizes 3000 --workers 1 2

For each sample size it runs `local_runner.py --direct_num_workers W` once per
worker count, with training cut to one step (`--epochs 1 --steps_per_epoch 1
--no_explain`) so the run is dominated by the Beam components, and reads each
component's wall time from MLMD (execution create time to last update time).
It prints the four Beam stages that grow with the data: ImportExampleGen,
StatisticsGen, Transform and Evaluator.

Why MLMD and not the whole command's time: the command also generates and
converts the sample (once per size, shared by the worker counts) and trains;
neither depends on Beam's worker count.

These machines are shared. Next to every figure the script records what else
was running, two ways:

* load: the mean 1-minute load average sampled during the component (our own
  run contributes about one per busy worker, so 1 worker on an idle 2-core
  machine reads ~1, 2 workers ~2);
* others: the mean number of cores busy with processes outside this run
  (system-wide busy CPU minus our process tree's CPU). This one is the
  contention figure: anything well above 0 means other work competed for the
  two cores and the wall time is not a clean measurement.

It also prints the CPU-seconds the run itself spent in each stage, which
contention barely changes: it shows what a second worker costs even when the
wall times are unreliable.

Arguments after `--` go to local_runner.py unchanged.
"""

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from typing import Dict, List, Optional, Sequence

import psutil

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from components.contracts import local_layout
from pipeline import configs
from components.contracts import run_results
from components.contracts import node_ids

BEAM_STAGES = (node_ids.EXAMPLE_GEN, node_ids.STATISTICS_GEN,
               node_ids.TRANSFORM, node_ids.EVALUATOR)
DATA_STAGE_ARGS = ('--epochs', '1', '--steps_per_epoch', '1', '--no_explain')


@dataclasses.dataclass
class Sample:
  """System state at one instant."""
  t: float
  dt: float            # seconds since the previous sample
  load1: float
  busy_cores: float    # all processes, averaged since the previous sample
  own_cores: float     # this run's process tree, same window


class LoadSampler:
  """Samples load average, system-wide and own-tree CPU use every `interval`."""

  def __init__(self, pid: int, interval: float = 2.0):
    self._root = psutil.Process(pid)
    self._interval = interval
    self.samples: List[Sample] = []
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._run, daemon=True)
    self._own_cpu: Dict[int, float] = {}

  def _tree_cpu(self) -> float:
    """CPU seconds of the tree, keeping the last value of exited processes."""
    try:
      procs = [self._root] + self._root.children(recursive=True)
    except psutil.Error:
      procs = []
    for p in procs:
      try:
        t = p.cpu_times()
        # Own CPU only: a reaped child's time would otherwise be counted
        # twice (in its parent's children_* and in its own last sample).
        self._own_cpu[p.pid] = t.user + t.system
      except psutil.Error:
        pass
    return sum(self._own_cpu.values())

  def _run(self) -> None:
    last_t = time.monotonic()
    last_busy = _busy_seconds()
    last_own = self._tree_cpu()
    while not self._stop.wait(self._interval):
      now, busy, own = time.monotonic(), _busy_seconds(), self._tree_cpu()
      dt = max(now - last_t, 1e-6)
      self.samples.append(Sample(
          t=time.time(), dt=dt, load1=os.getloadavg()[0],
          busy_cores=(busy - last_busy) / dt,
          own_cores=max(own - last_own, 0.0) / dt))
      last_t, last_busy, last_own = now, busy, own

  def __enter__(self) -> 'LoadSampler':
    self._thread.start()
    return self

  def __exit__(self, *exc) -> None:
    self._stop.set()
    self._thread.join()

  def window(self, start: float, end: float) -> Dict[str, Optional[float]]:
    """Mean load, foreign cores and own CPU-seconds over [start, end]."""
    inside = [s for s in self.samples if start <= s.t <= end + self._interval]
    if not inside:
      return {'load': None, 'others': None, 'cpu_s': None}
    n = len(inside)
    return {
        'load': sum(s.load1 for s in inside) / n,
        'others': max(sum(s.busy_cores - s.own_cores for s in inside) / n, 0.0),
        # CPU this run spent in the stage: unlike wall time, it does not
        # depend on what else runs (up to cache and frequency effects).
        'cpu_s': sum(s.own_cores * s.dt for s in inside),
    }


def _busy_seconds() -> float:
  t = psutil.cpu_times()
  return t.user + t.nice + t.system + t.irq + t.softirq + getattr(t, 'steal', 0)


def run_once(output_root: str, num_images: int, workers: int,
             extra_args: Sequence[str]) -> Dict[str, object]:
  """One local_runner.py run: per-stage wall time, load and contention."""
  pipeline_root = os.path.join(output_root, f'pipeline_root-w{workers}')
  serving_dir = os.path.join(output_root, f'serving-w{workers}')
  args = [sys.executable, os.path.join(REPO, 'local_runner.py'),
          '--output_root', output_root,
          '--pipeline_root', pipeline_root,
          '--serving_dir', serving_dir,
          '--sample_images', str(num_images),
          '--direct_num_workers', str(workers),
          '--disable_cache', *DATA_STAGE_ARGS, *extra_args]
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
  log_path = os.path.join(output_root, f'run-w{workers}.log')
  started = time.monotonic()
  with open(log_path, 'w') as log:
    proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    with LoadSampler(proc.pid) as sampler:
      returncode = proc.wait()
  if returncode != 0:
    raise RuntimeError(f'local_runner.py failed ({returncode}); see {log_path}')
  store = run_results.connect(os.path.join(pipeline_root, 'metadata.sqlite'))
  run = run_results.load_run(store, configs.PIPELINE_NAME)
  stages = {}
  for node_id in BEAM_STAGES:
    execution = run.nodes[node_id].execution
    start = execution.create_time_since_epoch / 1000
    end = execution.last_update_time_since_epoch / 1000
    stages[node_id] = {'seconds': end - start, **sampler.window(start, end)}
  return {'images': num_images, 'workers': workers,
          'command_seconds': time.monotonic() - started, 'stages': stages}


def _fmt(value: Optional[float], spec: str) -> str:
  return '-' if value is None else format(value, spec)


def print_table(results: List[Dict[str, object]]) -> None:
  print('\n| images | workers | stage | wall s | CPU s (this run) | '
        'load (1 min) | others (cores) |')
  print('|---:|---:|---|---:|---:|---:|---:|')
  for r in results:
    total = cpu = 0.0
    for node_id, s in r['stages'].items():
      total += s['seconds']
      cpu += s.get('cpu_s') or 0.0
      print(f"| {r['images']:,} | {r['workers']} | {node_id} | "
            f"{s['seconds']:.1f} | {_fmt(s.get('cpu_s'), '.1f')} | "
            f"{_fmt(s['load'], '.2f')} | {_fmt(s['others'], '.2f')} |")
    print(f"| {r['images']:,} | {r['workers']} | **4 Beam stages** | "
          f'**{total:.1f}** | **{cpu:.1f}** | | |')


def main(argv: Optional[List[str]] = None) -> int:
  argv = list(sys.argv[1:] if argv is None else argv)
  extra: List[str] = []
  if '--' in argv:
    extra = argv[argv.index('--') + 1:]
    argv = argv[:argv.index('--')]
  parser = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--sizes', type=int, nargs='+', default=[3000, 30000],
                      help='sample sizes in images (default: %(default)s)')
  parser.add_argument('--workers', type=int, nargs='+', default=[1, 2],
                      help='Beam DirectRunner worker counts (default: '
                           '%(default)s)')
  parser.add_argument('--work_dir', default=os.path.join(
      local_layout.DEFAULT_OUTPUT_ROOT, 'benchmarks', 'beam_workers'),
                      help='samples and pipeline roots go here; a sample is '
                           'generated once per size and reused (default: '
                           '%(default)s)')
  parser.add_argument('--json', help='also write the results here')
  args = parser.parse_args(argv)

  results = []
  for size in args.sizes:
    output_root = os.path.join(args.work_dir, f'images-{size}')
    os.makedirs(output_root, exist_ok=True)
    for workers in args.workers:
      print(f'running {size:,} images with {workers} worker(s) ...', flush=True)
      result = run_once(output_root, size, workers, extra)
      results.append(result)
      print(json.dumps(result), flush=True)
  print_table(results)
  if args.json:
    with open(args.json, 'w') as f:
      json.dump(results, f, indent=2)
  return 0


if __name__ == '__main__':
  sys.exit(main())
