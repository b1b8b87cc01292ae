"""What a local run prints, and the log file that takes everything else.

A default run's console used to carry TensorFlow's CUDA-registration errors
on machines without a GPU, a dozen FutureWarnings from google.api_core,
TFMA's RuntimeWarnings and thousands of INFO lines, which buried the run's
own output. During a run, `capture` sends all of it (Python logging and
warnings, and whatever the C++ libraries write to the process's stdout and
stderr file descriptors) to a log file, and the console gets one line per
component as it starts and ends, the project's own progress lines (the
Trainer's steps, for one) and what the runner prints itself. `verbose`
leaves the console as it was.
"""

import contextlib
import dataclasses
import logging
import os
import sys
import time
from typing import Iterator, Optional, TextIO

from absl import logging as absl_logging

# Messages of TFX's LocalDagRunner and launcher that mark a component's life.
_RUNNING = 'Component %s is running.'
_FINISHED = 'Component %s is finished.'
_CACHED = 'A cached execution %d is used.'
# Loggers the project's own modules log through (absl's, and their names).
_PROJECT = ('models', 'components', 'pipeline')


@dataclasses.dataclass(frozen=True)
class Console:
  """The terminal's streams while the run's own go to the log file."""
  out: TextIO
  err: TextIO


class _ConsoleHandler(logging.Handler):
  """Echoes component starts and ends and the project's progress lines."""

  def __init__(self, stream: TextIO):
    super().__init__(logging.INFO)
    self._stream = stream
    self._started = {}
    self._cached = False

  def emit(self, record: logging.LogRecord) -> None:
    try:
      text = self._line(record)
    except Exception:  # pylint: disable=broad-except
      return
    if text:
      self._stream.write(text + '\n')
      self._stream.flush()

  def _line(self, record: logging.LogRecord) -> Optional[str]:
    if record.msg == _RUNNING:
      node = record.args[0]
      self._started[node] = time.monotonic()
      self._cached = False
      return f'{time.strftime("%H:%M:%S")} {node} ...'
    if record.msg == _CACHED:
      self._cached = True
      return None
    if record.msg == _FINISHED:
      node = record.args[0]
      seconds = time.monotonic() - self._started.pop(node, time.monotonic())
      how = 'cached' if self._cached else f'done in {seconds:.0f} s'
      return f'{time.strftime("%H:%M:%S")} {node} {how}'
    if record.levelno >= logging.INFO and _is_project(record.pathname):
      return f'    {record.getMessage()}'
    return None


def _is_project(path: str) -> bool:
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  relative = os.path.relpath(os.path.abspath(path), root)
  return relative.split(os.sep)[0] in _PROJECT


@contextlib.contextmanager
def capture(log_path: str, verbose: bool) -> Iterator[Console]:
  """Sends the run's output to `log_path`; yields the terminal's streams.

  The runner prints its summary and errors to the yielded streams (the
  original stdout and stderr). Everything else that writes to file
  descriptors 1 and 2 during the block (Python's logging handlers and
  warnings write to sys.stderr, which is descriptor 2) lands in the log.
  """
  logging.basicConfig(level=logging.INFO,
                      format='%(asctime)s %(levelname)s %(name)s: %(message)s')
  logging.getLogger().setLevel(logging.INFO)
  # TFX logs through absl. TensorFlow's SavedModel writer silences absl while
  # it saves and then restores absl's own verbosity setting (WARNING unless
  # set), not the level the logger had: set that verbosity, as TFX's own
  # executor entry points do, or INFO lines stop after the first save.
  absl_logging.set_verbosity(absl_logging.INFO)
  if verbose:
    yield Console(sys.stdout, sys.stderr)
    return
  os.makedirs(os.path.dirname(log_path), exist_ok=True)
  sys.stdout.flush()
  sys.stderr.flush()
  saved = {fd: os.dup(fd) for fd in (1, 2)}
  console = Console(os.fdopen(os.dup(saved[1]), 'w', buffering=1),
                    os.fdopen(os.dup(saved[2]), 'w', buffering=1))
  log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
  for fd in (1, 2):
    os.dup2(log, fd)
  os.close(log)
  root = logging.getLogger()
  handler = _ConsoleHandler(console.out)
  root.addHandler(handler)
  try:
    yield console
  finally:
    root.removeHandler(handler)
    sys.stdout.flush()
    sys.stderr.flush()
    for fd, copy in saved.items():
      os.dup2(copy, fd)
      os.close(copy)
    console.out.close()
    console.err.close()
