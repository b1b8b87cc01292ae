"""End to end: a run stopped by SIGTERM and resumed, on two Beam workers.

One pipeline, run twice as a user would: `python local_runner.py
--direct_num_workers 2` with training cut to two steps, stopped by SIGTERM
while the Trainer runs, then the same command again, which resumes from the
cache and ends with a model too weak to be blessed. Both runs are sampled
from outside: each Beam worker is an `apache_beam.runners.worker.
sdk_worker_main` process whose environment names its Beam job (the runner's
control address) and its worker id, so the tests count the distinct
workers of every Beam job: ImportExampleGen, StatisticsGen and Transform in
the first run, the Evaluator in the second.
"""

import collections
import glob
import os
import signal
from typing import Dict, Set

import psutil
import pytest

from components.contracts import evaluation as er
from components.contracts import node_ids
from pipeline import exit_codes
from tests import pipeline_runs

pytestmark = pytest.mark.e2e

WORKER_MODULE = 'apache_beam.runners.worker.sdk_worker_main'
FLAGS = ['--direct_num_workers', '2', '--epochs', '1', '--steps_per_epoch',
         '2', '--no_explain']


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


class _WorkerCounts:
  """Per Beam job, the most workers alive at once (a later job reusing the
  same port would not add to an earlier job's count)."""

  def __init__(self):
    self.by_job: Dict[str, int] = collections.defaultdict(int)

  def __call__(self, process: psutil.Process) -> None:
    for job, ids in _live_workers(process).items():
      self.by_job[job] = max(self.by_job[job], len(ids))


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
  """(stopped run, resumed run, worker counts of the stopped, the resumed)."""
  root = str(tmp_path_factory.mktemp('weak_run'))
  first, second = _WorkerCounts(), _WorkerCounts()
  stopped = pipeline_runs.run_local_interrupted(
      root, FLAGS, node_ids.TRAINER, signal.SIGTERM, sample=first)
  resumed = pipeline_runs.run_local(root, FLAGS, sample=second)
  return stopped, resumed, first.by_job, second.by_job


def test_an_interrupted_run_resumes_and_a_weak_model_is_not_pushed(runs):
  """SIGTERM in the Trainer stops the run with its own summary; the same
  command resumes from the cache. Two training steps cannot meet the
  sample's real floors."""
  stopped, run, _, _ = runs
  assert stopped.returncode == exit_codes.INTERRUPTED, stopped.stderr
  assert 'Interrupted (terminated (SIGTERM)) during Trainer' in stopped.stderr
  assert 'Run the same command again to resume' in stopped.stderr
  assert 'Traceback' not in stopped.stderr
  run.check(exit_codes.NOT_BLESSED)
  assert 'Closed 1 execution(s) a stopped run left running' in run.stdout
  assert f'Run {run.run_id}:' in run.stdout  # this process's run
  result = run.result()
  for node_id in (node_ids.EXAMPLE_GEN, node_ids.STATISTICS_GEN,
                  node_ids.TRANSFORM):
    assert result.nodes[node_id].state == 'CACHED', node_id
  assert result.nodes[node_ids.TRAINER].state == 'COMPLETE'
  assert node_ids.EXPLAINER not in result.nodes  # --no_explain
  assert result.nodes[node_ids.EVALUATOR].state == 'COMPLETE'
  pushed = result.nodes[node_ids.PUSHER].outputs['pushed_model'][0]
  assert pushed.custom_properties['pushed'].int_value == 0
  assert not glob.glob(os.path.join(run.serving_dir, '*', 'saved_model.pb'))
  assert 'Verdict: NOT BLESSED' in run.stdout
  assert 'Not pushed' in run.stdout
  evaluation = er.load_evaluation(
      result.nodes[node_ids.EVALUATOR].output_uri('evaluation'))
  assert evaluation.validation_ok is False
  assert evaluation.failures


def test_two_direct_workers_run_the_beam_stages(runs):
  """`--direct_num_workers 2` runs every Beam stage on Beam's
  multi-processing direct runner with exactly two workers."""
  stopped, run, first, second = runs
  # ImportExampleGen, StatisticsGen and Transform each run at least one Beam
  # job before the Trainer, the Evaluator after it; every job had two
  # workers.
  assert len(first) >= 3, dict(first)
  assert len(second) >= 1, dict(second)
  workers = {**first, **second}
  assert dict(workers) == {job: 2 for job in workers}
  ran_first = stopped.result()
  for node_id in (node_ids.EXAMPLE_GEN, node_ids.STATISTICS_GEN,
                  node_ids.TRANSFORM):
    assert ran_first.nodes[node_id].state == 'COMPLETE', node_id
  assert run.result().nodes[node_ids.EVALUATOR].state == 'COMPLETE'
