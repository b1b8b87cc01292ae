"""A stop that lands where Python cannot pass it on still stops a run.

Each case is a fresh Python process (signal handlers are process-wide) that
sends itself SIGTERM from a place that drops the handler's exception: a
finalizer, as TensorFlow's function objects are, or code that catches
everything.
"""

import subprocess
import sys

import pytest

from components import interrupts
from tests import pipeline_runs

_SCRIPT = '''
import signal, sys, time
from components import interrupts
how = sys.argv[1]
interrupts.RETRY_SECONDS = 0.05
interrupts.install({signal.SIGTERM: lambda: KeyboardInterrupt('terminated')})

class Finalized:
  def __del__(self):
    signal.raise_signal(signal.SIGTERM)

def run_on():
  deadline = time.monotonic() + 0.3  # six retries
  while time.monotonic() < deadline:
    time.sleep(0.01)
  print('ran on')

def drop():
  if how == 'caught':
    try:
      signal.raise_signal(signal.SIGTERM)
    except BaseException:
      pass
  else:
    Finalized()

try:
  if how == 'outside':
    drop()
    run_on()
  elif how == 'before':
    drop()
    with interrupts.retried():
      drop()
      run_on()
  elif how == 'left':
    try:
      with interrupts.retried():
        signal.raise_signal(signal.SIGTERM)
    except KeyboardInterrupt:
      print(f'handled: {interrupts.stop()}')
    assert interrupts.stop_behind(SystemError('mangled')) is interrupts.stop()
    run_on()
  else:
    with interrupts.retried():
      drop()
      run_on()
except KeyboardInterrupt as e:
  print(f'stopped: {e}')
'''


def _run(how: str) -> subprocess.CompletedProcess:
  return subprocess.run([sys.executable, '-c', _SCRIPT, how],
                        cwd=pipeline_runs.REPO, capture_output=True,
                        text=True, timeout=60, check=True)


@pytest.mark.parametrize('how', ['finalizer', 'caught'])
def test_a_dropped_stop_is_raised_again_inside_the_block(how):
  run = _run(how)
  assert run.stdout == 'stopped: terminated\n', run.stderr


def test_a_stop_dropped_before_the_block_does_not_stop_retries_inside_it():
  """Each block retries its own first stop, whatever happened before."""
  run = _run('before')
  assert run.stdout == 'stopped: terminated\n', run.stderr


def test_outside_the_block_a_stop_is_raised_once():
  """As Python does (and drops it in a finalizer, which is what the module
  is for), so that cleanup code a stop runs is not itself interrupted."""
  run = _run('outside')
  assert run.stdout == 'ran on\n', run.stderr
  assert 'Exception ignored in' in run.stderr


def test_a_stop_that_left_the_block_is_not_raised_again():
  run = _run('left')
  assert run.stdout == 'handled: terminated\nran on\n', run.stderr


def test_only_a_stop_is_behind_an_error_when_no_block_saw_one():
  """In this process no stop was raised in a block (see `left` above for
  one that was: any error after it is put down to it)."""
  interrupt = KeyboardInterrupt()
  assert interrupts.stop_behind(interrupt) is interrupt
  assert interrupts.stop_behind(ValueError('a failure')) is None
