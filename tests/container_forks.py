"""Container steps as forks of a process that has imported their libraries.

Every step of the compiled package is `python -m MODULE ARGS` in the same
image, and each one starts by importing TensorFlow, Beam, TFMA and TFX:
about five seconds of CPU before the step does anything, paid by every one
of the dozens of steps tests/kfp_emulator.py runs. Here a server process
imports those libraries once, under the containers' environment, and forks
a child per step; the child takes the step's environment, working
directory, HOME, TMPDIR and output files, runs MODULE as `__main__` with
ARGS (as `python -m` does), and exits the way an interpreter does (exit
code, atexit handlers). What differs from a fresh interpreter is only that
the preloaded libraries were imported before the step's environment was in
place, so a server is kept per environment (HOME and TMPDIR aside, which
no preloaded library reads at import). tests/test_kubeflow_executor.py
starts steps as fresh interpreters, which this module does not replace.

Run as `python -m tests.container_forks MODULE...`, the module is that
server: it imports each MODULE, then reads one JSON request per line on
stdin ({"id", "module", "args", "env", "cwd", "log"}) and answers on stdout
with `started ID PID` and `exited ID CODE` (CODE negative for a signal).
"""

import json
import os
import select
import signal
import subprocess
import sys
import threading
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

# Imported by every step of the package (TFX's container entrypoint imports
# the Evaluator's executor, hence TFMA), so worth importing once.
PRELOAD = ('tensorflow', 'apache_beam', 'tensorflow_model_analysis',
           'tensorflow_data_validation', 'tensorflow_transform')
# Read per step, not at import time: not part of a server's identity.
PER_STEP_ENV = ('HOME', 'TMPDIR')
_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ----------------------------------------------------------- the server


def _serve(requests, replies) -> Optional[dict]:
  """Forks a child per request; returns the request in the child, None in
  the server when its input ends and every child has exited."""
  children: Dict[int, int] = {}  # pid -> request id

  def reap(options: int) -> bool:
    pid, status = os.waitpid(-1, options)
    if not pid:
      return False
    replies.write(f'exited {children.pop(pid)} '
                  f'{os.waitstatus_to_exitcode(status)}\n')
    replies.flush()
    return True

  open_input = True
  while open_input or children:
    while children and reap(os.WNOHANG):
      pass
    if not open_input:
      reap(0)  # wait for the next child to exit
      continue
    readable, _, _ = select.select([requests], [], [], 0.1)
    if not readable:
      continue
    line = requests.readline()
    if not line:
      open_input = False
      continue
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
      return request
    children[pid] = request['id']
    replies.write(f'started {request["id"]} {pid}\n')
    replies.flush()
  return None


def _become(request: Mapping) -> None:
  """Turns this forked child into the step `request` describes."""
  log = os.open(request['log'], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
  null = os.open(os.devnull, os.O_RDONLY)
  os.dup2(null, 0)
  os.dup2(log, 1)
  os.dup2(log, 2)
  os.close(log)
  os.close(null)
  os.environ.clear()
  os.environ.update(request['env'])
  import tempfile  # pylint: disable=g-import-not-at-top
  tempfile.tempdir = None  # found again from TMPDIR
  os.chdir(request['cwd'])
  sys.path[0] = request['cwd']  # as `python -m` puts it
  sys.argv = [request['module']] + list(request['args'])


def _main(preload: Sequence[str]) -> None:
  import importlib  # pylint: disable=g-import-not-at-top
  for name in preload:
    importlib.import_module(name)
  request = _serve(sys.stdin, sys.stdout)
  if request is None:
    return
  _become(request)
  import runpy  # pylint: disable=g-import-not-at-top
  runpy.run_module(request['module'], run_name='__main__', alter_sys=True)


# ----------------------------------------------------------- the client


class _Server:
  """One server process and the steps it is running."""

  def __init__(self, env: Mapping[str, str], preload: Sequence[str],
               log_path: str):
    self.log_path = log_path
    with open(log_path, 'w') as log:
      self.proc = subprocess.Popen(
          [sys.executable, '-m', 'tests.container_forks', *preload],
          cwd=_REPO, env=dict(env), stdin=subprocess.PIPE,
          stdout=subprocess.PIPE, stderr=log, text=True)
    self._lock = threading.Lock()
    self._next_id = 0
    self._pids: Dict[int, int] = {}
    self._codes: Dict[int, int] = {}
    self._closed = False
    self._changed = threading.Condition()
    threading.Thread(target=self._read, daemon=True).start()

  def _read(self) -> None:
    for line in self.proc.stdout:
      kind, request_id, value = line.split()
      with self._changed:
        target = self._pids if kind == 'started' else self._codes
        target[int(request_id)] = int(value)
        self._changed.notify_all()
    with self._changed:
      self._closed = True
      self._changed.notify_all()

  def run(self, module: str, args: Sequence[str], env: Mapping[str, str],
          cwd: str, log_path: str, timeout: float) -> int:
    with self._lock:
      request_id = self._next_id
      self._next_id += 1
      self.proc.stdin.write(json.dumps(dict(
          id=request_id, module=module, args=list(args), env=dict(env),
          cwd=cwd, log=log_path)) + '\n')
      self.proc.stdin.flush()
    with self._changed:
      finished = self._changed.wait_for(
          lambda: request_id in self._codes or self._closed, timeout)
      pid = self._pids.pop(request_id, None)
      if not finished:
        if pid is not None:
          os.kill(pid, signal.SIGKILL)
        raise subprocess.TimeoutExpired(module, timeout)
      if request_id not in self._codes:
        raise RuntimeError(f'the fork server exited with '
                           f'{self.proc.wait()} before {module} did; its '
                           f'log: {self.log_path}')
      return self._codes.pop(request_id)

  def close(self) -> None:
    self.proc.stdin.close()
    self.proc.wait()


class ForkedContainers:
  """Runs `python -m MODULE ARGS` steps as forks of preloaded servers."""

  def __init__(self, work_dir: str, preload: Sequence[str] = PRELOAD):
    self.work_dir = work_dir
    self.preload = tuple(preload)
    self._servers: Dict[Tuple, _Server] = {}
    self._lock = threading.Lock()

  @staticmethod
  def module_of(command: Sequence[str]) -> Optional[Tuple[str, List[str]]]:
    """(MODULE, ARGS) of `python -m MODULE ARGS` run by this interpreter."""
    if len(command) >= 3 and command[0] == sys.executable and (
        command[1] == '-m'):
      return command[2], list(command[3:])
    return None

  def _server(self, env: Mapping[str, str]) -> _Server:
    key = tuple(sorted((k, v) for k, v in env.items()
                       if k not in PER_STEP_ENV))
    with self._lock:
      if key not in self._servers:
        home = os.path.join(self.work_dir, f'server-{len(self._servers)}')
        os.makedirs(os.path.join(home, 'tmp'), exist_ok=True)
        self._servers[key] = _Server(
            dict(key, HOME=home, TMPDIR=os.path.join(home, 'tmp')),
            self.preload, os.path.join(home, 'log.txt'))
      return self._servers[key]

  def run(self, command: Sequence[str], env: Mapping[str, str], cwd: str,
          log_path: str, timeout: float) -> int:
    """Runs the step; returns its exit code (negative: killed by a signal)."""
    parsed = self.module_of(command)
    if parsed is None:
      raise ValueError(f'not a `python -m` command of {sys.executable}: '
                       f'{list(command)[:3]}')
    module, args = parsed
    return self._server(env).run(module, args, env, cwd, log_path, timeout)

  def close(self) -> None:
    with self._lock:
      for server in self._servers.values():
        server.close()
      self._servers.clear()


if __name__ == '__main__':
  _main(sys.argv[1:])
