"""Runs `local_runner.py` the way a user does, for the end-to-end tests.

Each run is a subprocess with its own output root under pytest's tmp folder,
so the tests exercise the real command line, the real LocalDagRunner, Beam and
MLMD, and leave nothing in the checkout.
"""

import dataclasses
import os
import subprocess
import sys
import time
from typing import List, Optional, Sequence

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

  def check(self) -> 'Run':
    assert self.returncode == 0, (
        f'local_runner.py failed ({self.returncode}):\n'
        f'{self.stdout[-3000:]}\n{self.stderr[-6000:]}')
    return self


def run_local(output_root: str, extra_args: Sequence[str] = (),
              timeout: int = 1800) -> Run:
  """`python local_runner.py --output_root OUT ...` on the e2e sample."""
  args: List[str] = [
      sys.executable, os.path.join(REPO, 'local_runner.py'),
      '--output_root', output_root,
      '--sample_images', str(E2E_SAMPLE_IMAGES),
      '--sample_seed', str(E2E_SAMPLE_SEED),
      *extra_args,
  ]
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
  started = time.monotonic()
  before = _run_ids(output_root)
  proc = subprocess.run(args, cwd=REPO, env=env, capture_output=True,
                        text=True, timeout=timeout, stdin=subprocess.DEVNULL)
  seconds = time.monotonic() - started
  new = [r for r in _run_ids(output_root) if r not in before]
  return Run(output_root=output_root, returncode=proc.returncode,
             stdout=proc.stdout, stderr=proc.stderr, seconds=seconds,
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
