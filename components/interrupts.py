"""Ctrl-C and SIGTERM that stop a command inside TensorFlow, every time.

Python runs a signal's handler between two bytecodes of whatever the main
thread executes, and raises what the handler raises there. Inside
TensorFlow that place is often one that cannot pass it on: a finalizer (a
`__del__`: TensorFlow's function objects have one, run whenever Keras drops
a traced function) prints "Exception ignored in ..." and drops it; a bare
`except:` turns it into a TypeError that a fallback path then catches; a
C++ extension calling back into Python turns it into a SystemError. Sent
at random moments of the pipeline's Trainer, one SIGTERM in about eight
was dropped and the run completed as if never asked to stop.

So inside `retried()` a stop is raised again every RETRY_SECONDS until it
leaves the block, and the code around the block can ask (`stop()`) whether
a stop is what broke the call, whatever exception came out of it. Outside
the block a stop is raised once, as Python does, so that cleanup code the
stop runs (removing half-written files) is not itself interrupted.
"""

import _thread
import contextlib
import signal
import threading
import time
from typing import Callable, Dict, Iterator, Mapping, Optional

RETRY_SECONDS = 0.5

_exceptions: Dict[int, Callable[[], BaseException]] = {}
_stop: Optional[BaseException] = None  # the first stop in the latest block
_block = 0  # counts `retried()` blocks, so a retry knows its own
_retrying = False  # inside `retried()`
_retrier_block = 0  # the block whose stop is being retried, if any
_retry_pending = False  # the next handled signal is a retry, not a new one


def install(exceptions: Mapping[int, Callable[[], BaseException]]) -> None:
  """Makes each signal raise its exception in the main thread. Call from
  the main thread."""
  global _stop
  _stop = None
  _exceptions.update(exceptions)
  for signum in exceptions:
    signal.signal(signum, _handle)


def stop() -> Optional[BaseException]:
  """The first stop raised inside the latest `retried()` block since
  `install`, if any."""
  return _stop


def stop_behind(error: BaseException) -> Optional[BaseException]:
  """The stop that `error` came out of, or None if no stop did: the block's
  stop, whatever TensorFlow turned it into, or `error` itself when it is a
  KeyboardInterrupt raised outside a block."""
  if _stop is not None:
    return _stop
  return error if isinstance(error, KeyboardInterrupt) else None


@contextlib.contextmanager
def retried() -> Iterator[None]:
  """Within the block, a stop is raised again until it leaves the block."""
  global _block, _retrying, _stop
  _block += 1
  _stop = None
  _retrying = True
  try:
    yield
  finally:
    _retrying = False


def _handle(signum: int, frame) -> None:
  del frame
  global _stop, _retrier_block, _retry_pending
  if _retry_pending:
    _retry_pending = False
    if not _retrying:
      return  # the stop has left the block since the retry was sent
  exception = _exceptions[signum]()
  if _retrying:
    if _stop is None:
      _stop = exception
    if _retrier_block != _block:
      _retrier_block = _block
      threading.Thread(target=_retry, args=(signum, _block),
                       daemon=True).start()
  raise exception


def _retry(signum: int, block: int) -> None:
  global _retry_pending
  while True:
    time.sleep(RETRY_SECONDS)
    if not _retrying or _block != block:
      return
    _retry_pending = True
    _thread.interrupt_main(signum)
