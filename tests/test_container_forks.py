"""The forked containers the KFP emulator runs steps in behave as processes.

A step module written here is run through a server with nothing preloaded
(the preloading only saves time), and what it sees and leaves is checked
against what `python -m` would give it.
"""

import itertools
import os
import subprocess
import sys
import textwrap

import pytest

from tests import container_forks

_STEP = '''
import atexit, json, os, sys, tempfile
atexit.register(lambda: print('atexit ran'))
print(json.dumps(dict(name=__name__, argv=sys.argv[1:], cwd=os.getcwd(),
                      path0=sys.path[0], env=os.environ.get('STEP_VALUE'),
                      tmp=tempfile.gettempdir(), home=os.environ.get('HOME'))))
how = sys.argv[1]
if how == 'raise':
  raise ValueError('bad step')
if how == 'exit':
  sys.exit(3)
if how == 'kill':
  os.kill(os.getpid(), 9)
if how == 'hang':
  import time; time.sleep(60)
'''


@pytest.fixture
def step(tmp_path):
  """Runs the step module under tmp_path; returns (exit code, its log)."""
  package = tmp_path / 'code'
  package.mkdir()
  (package / 'forked_step.py').write_text(textwrap.dedent(_STEP))
  containers = container_forks.ForkedContainers(str(tmp_path / 'forks'),
                                                preload=())
  runs = itertools.count()

  def run(how, value='a', timeout=30):
    task = tmp_path / f'task{next(runs)}'
    (task / 'tmp').mkdir(parents=True)
    log = str(task / 'log.txt')
    env = {'PATH': os.environ['PATH'], 'STEP_VALUE': value,
           'HOME': str(task), 'TMPDIR': str(task / 'tmp')}
    code = containers.run([sys.executable, '-m', 'forked_step', how, 'x'],
                          env, str(package), log, timeout)
    with open(log) as f:
      return code, f.read()

  yield run
  containers.close()


def test_a_step_sees_its_own_args_env_folders_and_exits_cleanly(step,
                                                                tmp_path):
  code, log = step('ok')
  assert code == 0, log
  assert '"name": "__main__"' in log
  assert '"argv": ["ok", "x"]' in log
  assert f'"cwd": "{tmp_path / "code"}"' in log
  assert f'"path0": "{tmp_path / "code"}"' in log
  assert f'"tmp": "{tmp_path / "task0" / "tmp"}"' in log
  assert f'"home": "{tmp_path / "task0"}"' in log
  assert log.rstrip().endswith('atexit ran')
  # A second step of the same server gets its own values.
  code, log = step('ok', value='b')
  assert code == 0 and '"env": "b"' in log
  assert f'"tmp": "{tmp_path / "task1" / "tmp"}"' in log


def test_exit_codes_are_what_an_interpreter_returns(step):
  code, log = step('raise')
  assert code == 1 and 'ValueError: bad step' in log
  assert step('exit')[0] == 3
  assert step('kill')[0] == -9


def test_a_step_over_its_time_is_killed(step):
  with pytest.raises(subprocess.TimeoutExpired):
    step('hang', timeout=0.5)


def test_only_python_dash_m_commands_are_forked():
  module_of = container_forks.ForkedContainers.module_of
  assert module_of([sys.executable, '-m', 'a.b', '--x']) == ('a.b', ['--x'])
  assert module_of([sys.executable, 'script.py']) is None
  assert module_of(['/other/python', '-m', 'a.b']) is None
