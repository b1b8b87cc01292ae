"""Wall time and memory per component of `python local_runner.py`, from MLMD.

    python benchmarks/pipeline_benchmark.py                      # default run
    python benchmarks/pipeline_benchmark.py --sample_images 12000 \\
        -- --epochs 1 --steps_per_epoch 1 --no_explain          # data stages

Runs local_runner.py in a subprocess with its own output root, samples the
resident memory of its whole process tree every 0.1 s, and afterwards reads
each component's execution window from MLMD (create and last-update times), so
every figure is attributed to the component that was running:

* wall time per component and for the whole command;
* peak RSS of the process tree during each component, and how much it grew
  over the RSS the component started with (Python rarely returns memory, so
  the growth is the honest per-component figure);
* bytes per example of what Transform materializes against the source JPEGs.

Arguments after `--` go to local_runner.py unchanged.
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Dict, List, Tuple

import psutil

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from components.contracts import local_layout
from pipeline import configs
from components.contracts import run_results


class MemorySampler:
  """Samples the RSS of a process and all its descendants."""

  def __init__(self, pid: int, interval: float = 0.1):
    self._root = psutil.Process(pid)
    self._interval = interval
    self.samples: List[Tuple[float, int]] = []
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._run, daemon=True)

  def _run(self) -> None:
    while not self._stop.is_set():
      try:
        procs = [self._root] + self._root.children(recursive=True)
        rss = 0
        for p in procs:
          try:
            rss += p.memory_info().rss
          except psutil.Error:
            pass
        self.samples.append((time.time(), rss))
      except psutil.Error:
        return
      time.sleep(self._interval)

  def __enter__(self) -> 'MemorySampler':
    self._thread.start()
    return self

  def __exit__(self, *exc) -> None:
    self._stop.set()
    self._thread.join()

  def window(self, start: float, end: float) -> Tuple[int, int]:
    """(RSS at the start, peak RSS) between two wall-clock times."""
    inside = [rss for t, rss in self.samples if start <= t <= end]
    before = [rss for t, rss in self.samples if t <= start]
    first = before[-1] if before else (inside[0] if inside else 0)
    return first, max(inside, default=first)


def _gib(n: float) -> str:
  return f'{n / 2**30:.2f} GiB'


def _directory_bytes(path: str) -> int:
  return sum(os.path.getsize(f) for f in glob.glob(os.path.join(path, '**'),
                                                    recursive=True)
             if os.path.isfile(f))


def _output_bytes(node: run_results.NodeExecution) -> int:
  return sum(_directory_bytes(a.uri) for artifacts in node.outputs.values()
             for a in artifacts if a.uri and os.path.isdir(a.uri))


def measure_run(command: List[str], root: str,
                log_name: str = 'run.log') -> Dict[str, Any]:
  """Runs `command` (a local_runner.py invocation writing under `root`) and
  returns per-component wall time, peak RSS, RSS growth and output bytes,
  plus the whole command's; None figures if the command failed."""
  print('running:', ' '.join(command), flush=True)
  load_before = os.getloadavg()
  started = time.time()
  with open(os.path.join(root, log_name), 'w') as log:
    proc = subprocess.Popen(command, cwd=REPO, stdout=log,
                            stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
    with MemorySampler(proc.pid) as sampler:
      returncode = proc.wait()
  total = time.time() - started
  result: Dict[str, Any] = {
      'returncode': returncode, 'total_seconds': total,
      'peak_rss': max((rss for _, rss in sampler.samples), default=0),
      'load_before': load_before, 'components': {}, 'order': []}
  paths = local_layout.local_paths(root)
  if not os.path.exists(paths.metadata_path):
    return result
  store = run_results.connect(paths.metadata_path)
  run = run_results.load_run(store, configs.PIPELINE_NAME)
  for node in sorted(run.nodes.values(), key=lambda n: n.execution.id):
    start = node.execution.create_time_since_epoch / 1000
    end = node.execution.last_update_time_since_epoch / 1000
    first, peak = sampler.window(start, end)
    result['order'].append(node.node_id)
    result['components'][node.node_id] = {
        'state': node.state.lower(), 'seconds': end - start,
        'peak_rss': peak, 'rss_start': first,
        'rss_growth': max(0, peak - first),
        'output_bytes': _output_bytes(node)}
  return result


def print_components(result: Dict[str, Any]) -> None:
  print(f'\n{"component":<28} {"state":<9} {"seconds":>8} '
        f'{"peak RSS":>10} {"growth":>10} {"outputs":>10}')
  for node_id in result['order']:
    row = result['components'][node_id]
    print(f'{node_id:<28} {row["state"]:<9} {row["seconds"]:8.1f} '
          f'{_gib(row["peak_rss"]):>10} {_gib(row["rss_growth"]):>10} '
          f'{row["output_bytes"] / 2**20:8.1f} MB')
  print(f'\nwhole command: {result["total_seconds"]:.1f} s, peak RSS '
        f'{_gib(result["peak_rss"])} (load average before: '
        f'{result["load_before"][0]:.2f})')


def split_passthrough(argv: List[str]) -> Tuple[List[str], List[str]]:
  """(this script's arguments, those after `--` for local_runner.py)."""
  if '--' not in argv:
    return argv, []
  cut = argv.index('--')
  return argv[:cut], argv[cut + 1:]


def main() -> int:
  argv, extra = split_passthrough(sys.argv[1:])
  parser = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--sample_images', type=int,
                      default=configs.SAMPLE_DATA.num_images)
  parser.add_argument('--output_root',
                      help='default: a new temporary folder')
  parser.add_argument('--json', help='also write the figures here')
  args = parser.parse_args(argv)
  root = args.output_root or tempfile.mkdtemp(prefix='pipeline-bench-')
  os.makedirs(root, exist_ok=True)

  command = [sys.executable, os.path.join(REPO, 'local_runner.py'),
             '--output_root', root, '--sample_images',
             str(args.sample_images), *extra]
  result = measure_run(command, root)
  if result['returncode'] not in (0, 3):
    print(f'local_runner.py failed ({result["returncode"]}); see '
          f'{root}/run.log')
    return result['returncode']
  print_components(result)
  paths = local_layout.local_paths(root)
  store = run_results.connect(paths.metadata_path)
  run = run_results.load_run(store, configs.PIPELINE_NAME)
  rows = result['components']
  total = result['total_seconds']
  overall_peak = result['peak_rss']
  load_before = result['load_before']

  # What Transform writes versus the source JPEGs.
  data_root = glob.glob(os.path.join(root, 'tfrecords', '*'))[0]
  with open(os.path.join(data_root, 'conversion.json')) as f:
    num_examples = json.load(f)['total']
  jpeg_bytes = sum(os.path.getsize(p) for p in glob.glob(
      os.path.join(root, 'sample', '*', 'img_align_celeba', '*.jpg')))
  transform = run.nodes.get('Transform')
  materialized = 0
  if transform is not None and transform.outputs.get('transformed_examples'):
    materialized = _directory_bytes(
        transform.output_uri('transformed_examples'))
  tfrecord_bytes = _directory_bytes(data_root)
  if jpeg_bytes:  # the built-in sample; other data's JPEGs are elsewhere
    print(f'source JPEGs: {jpeg_bytes / num_examples / 1024:.1f} KB/example; '
          f'converted TFRecords: {tfrecord_bytes / num_examples / 1024:.1f} '
          f'KB/example ({tfrecord_bytes / jpeg_bytes:.2f}x)')
    print(f'Transform materialized: {materialized / num_examples / 1024:.1f} '
          f'KB/example ({materialized / jpeg_bytes:.2f}x the JPEGs); decoded '
          'pixels are produced on the fly by the Transform graph in the '
          'Trainer and the serving signatures')
  if args.json:
    with open(args.json, 'w') as f:
      json.dump({'components': rows, 'total_seconds': total,
                 'peak_rss': overall_peak, 'num_examples': num_examples,
                 'jpeg_bytes': jpeg_bytes, 'tfrecord_bytes': tfrecord_bytes,
                 'transform_materialized_bytes': materialized,
                 'load_before': load_before}, f, indent=2)
  return 0


if __name__ == '__main__':
  sys.exit(main())
