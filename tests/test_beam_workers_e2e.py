"""A local run honours --direct_num_workers (end to end, ~4-7 minutes).

`python local_runner.py --direct_num_workers 2` must run the Beam components
on Beam's multi-processing direct runner with two workers. The run is
sampled from outside: each worker is an `apache_beam.runners.worker.
sdk_worker_main` process whose environment names its Beam job (the runner's
control address) and its worker id, so the test counts the distinct workers
of every Beam job the pipeline ran. Training is cut to one step; everything
else is the real pipeline on the e2e sample.
"""

import collections
import os
import subprocess
import sys
import time
from typing import Dict, Set

import psutil
import pytest

from pipeline import configs
from pipeline import exit_codes
from components.contracts import run_results
from components.contracts import node_ids
from tests import pipeline_runs

pytestmark = pytest.mark.e2e

WORKER_MODULE = 'apache_beam.runners.worker.sdk_worker_main'


def _live_workers(root: psutil.Process) -> Dict[str, Set[str]]:
  """Worker ids of the live Beam workers, by their job's control address."""
  live: Dict[str, Set[str]] = collections.defaultdict(set)
  try:
    children = root.children(recursive=True)
  except psutil.Error:
    return live
  for child in children:
    try:
      if WORKER_MODULE not in ' '.join(child.cmdline()):
        continue
      env = child.environ()
    except psutil.Error:
      continue
    job = env.get('CONTROL_API_SERVICE_DESCRIPTOR', '').strip()
    if job and env.get('WORKER_ID'):
      live[job].add(env['WORKER_ID'])
  return live


def test_two_direct_workers_run_the_beam_stages(tmp_path):
  args = [sys.executable, os.path.join(pipeline_runs.REPO, 'local_runner.py'),
          '--output_root', str(tmp_path),
          '--sample_images', str(pipeline_runs.E2E_SAMPLE_IMAGES),
          '--sample_seed', str(pipeline_runs.E2E_SAMPLE_SEED),
          '--direct_num_workers', '2',
          '--epochs', '1', '--steps_per_epoch', '1', '--no_explain']
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
  proc = subprocess.Popen(args, cwd=pipeline_runs.REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, text=True)
  root = psutil.Process(proc.pid)
  # Per Beam job: the most workers alive at once (a later job reusing the
  # same port would not add to an earlier job's count).
  workers: Dict[str, int] = collections.defaultdict(int)
  deadline = time.monotonic() + 1800
  while proc.poll() is None and time.monotonic() < deadline:
    for job, ids in _live_workers(root).items():
      workers[job] = max(workers[job], len(ids))
    time.sleep(0.2)
  output, _ = proc.communicate(timeout=60)
  # One training step is not blessed: the run completes, nothing is pushed.
  assert proc.returncode == exit_codes.NOT_BLESSED, output[-6000:]

  # ImportExampleGen, StatisticsGen, Transform and the Evaluator each run at
  # least one Beam job, and every job had exactly two workers.
  assert len(workers) >= 4, dict(workers)
  assert dict(workers) == {job: 2 for job in workers}
  store = run_results.connect(
      os.path.join(tmp_path, 'pipeline_root', 'metadata.sqlite'))
  result = run_results.load_run(store, configs.PIPELINE_NAME)
  for node_id in (node_ids.EXAMPLE_GEN, node_ids.STATISTICS_GEN,
                  node_ids.TRANSFORM, node_ids.EVALUATOR):
    assert result.nodes[node_id].state == 'COMPLETE', node_id
