"""Runs `local_runner.py` the way a user does, for the end-to-end tests.

Each run is a subprocess with its own output root under pytest's tmp folder,
so the tests exercise the real command line, the real LocalDagRunner, Beam and
MLMD, and leave nothing in the checkout.
"""

import contextlib
import dataclasses
import os
import subprocess
import sys
import threading
import time
from typing import Callable, Iterator, List, Optional, Sequence

import psutil

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Small enough for CI, large enough that each test cohort has a few dozen
# examples and the sample preset's real thresholds can be met.
E2E_SAMPLE_IMAGES = 2000
E2E_SAMPLE_SEED = 7


@dataclasses.dataclass
class Run:
  output_root: str
  returncode: int
  stdout: str
  stderr: str
  seconds: float
  # The MLMD run this command made (None if it made none). Tests sharing one
  # output root rerun the pipeline there, so "the latest run" can be another
  # test's; this one stays put.
  run_id: Optional[str] = None

  @property
  def pipeline_root(self) -> str:
    return os.path.join(self.output_root, 'pipeline_root')

  @property
  def metadata_path(self) -> str:
    return os.path.join(self.pipeline_root, 'metadata.sqlite')

  @property
  def serving_dir(self) -> str:
    return os.path.join(self.output_root, 'serving_model')

  def result(self):
    """This command's run as recorded in MLMD (run_results.RunResult)."""
    # pylint: disable=g-import-not-at-top
    from pipeline import configs
    from components.contracts import run_results
    store = run_results.connect(self.metadata_path)
    return run_results.load_run(store, configs.PIPELINE_NAME, self.run_id)

  def check(self, status: int = 0) -> 'Run':
    """Asserts the exit status (0: a model was pushed)."""
    assert self.returncode == status, (
        f'local_runner.py exited {self.returncode}, not {status}:\n'
        f'{self.stdout[-3000:]}\n{self.stderr[-6000:]}')
    return self


def _command(output_root: str, extra_args: Sequence[str]) -> List[str]:
  return [sys.executable, os.path.join(REPO, 'local_runner.py'),
          '--output_root', output_root,
          '--sample_images', str(E2E_SAMPLE_IMAGES),
          '--sample_seed', str(E2E_SAMPLE_SEED),
          *extra_args]


_ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')


# Called with the run's process every SAMPLE_SECONDS while it runs.
Sampler = Callable[[psutil.Process], None]
SAMPLE_SECONDS = 0.2


@contextlib.contextmanager
def _sampling(pid: int, sample: Optional[Sampler]) -> Iterator[None]:
  """Calls `sample` on process `pid` from a thread until the block ends."""
  if sample is None:
    yield
    return
  done = threading.Event()
  process = psutil.Process(pid)

  def loop():
    while not done.wait(SAMPLE_SECONDS):
      sample(process)

  thread = threading.Thread(target=loop, daemon=True)
  thread.start()
  try:
    yield
  finally:
    done.set()
    thread.join()


def run_local(output_root: str, extra_args: Sequence[str] = (),
              timeout: int = 1800, sample: Optional[Sampler] = None) -> Run:
  """`python local_runner.py --output_root OUT ...` on the e2e sample."""
  started = time.monotonic()
  before = _run_ids(output_root)
  proc = subprocess.Popen(_command(output_root, extra_args), cwd=REPO,
                          env=_ENV, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True,
                          stdin=subprocess.DEVNULL)
  with _sampling(proc.pid, sample):
    try:
      stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
      proc.kill()
      raise
  seconds = time.monotonic() - started
  new = [r for r in _run_ids(output_root) if r not in before]
  return Run(output_root=output_root, returncode=proc.returncode,
             stdout=stdout, stderr=stderr, seconds=seconds,
             run_id=new[-1] if new else None)


def run_local_interrupted(output_root: str, extra_args: Sequence[str],
                          node_id: str, signum: int,
                          timeout: int = 1800,
                          sample: Optional[Sampler] = None) -> Run:
  """Starts the same command as run_local, sends `signum` once the console
  says `node_id` started, and returns what the runner made of it."""
  started = time.monotonic()
  before = _run_ids(output_root)
  proc = subprocess.Popen(_command(output_root, extra_args), cwd=REPO,
                          env=_ENV, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True,
                          stdin=subprocess.DEVNULL)
  seen = []
  with _sampling(proc.pid, sample):
    for line in proc.stdout:
      seen.append(line)
      if line.rstrip().endswith(f' {node_id} ...'):
        time.sleep(2)  # inside the component, not at its first line
        proc.send_signal(signum)
        break
    rest, stderr = proc.communicate(timeout=timeout)
  new = [r for r in _run_ids(output_root) if r not in before]
  return Run(output_root=output_root, returncode=proc.returncode,
             stdout=''.join(seen) + rest, stderr=stderr,
             seconds=time.monotonic() - started,
             run_id=new[-1] if new else None)


def _run_ids(output_root: str) -> List[str]:
  """Run ids in the output root's MLMD store, oldest first."""
  # pylint: disable=g-import-not-at-top
  from pipeline import configs
  from components.contracts import run_results
  path = os.path.join(output_root, 'pipeline_root', 'metadata.sqlite')
  if not os.path.exists(path):
    return []
  return run_results.run_ids(run_results.connect(path), configs.PIPELINE_NAME)
