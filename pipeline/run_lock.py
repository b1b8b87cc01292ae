"""One local run per pipeline root at a time.

Two runs on one root interleave their writes to the same MLMD store, the
same generated sample and the same serving folder. The lock is an OS-level
`flock` on a file in the pipeline root, so the kernel releases it when the
holding process ends, however it ends (a crash or SIGKILL included): there
is no stale lock file to clean up. The file also names its holder, for the
message the second run prints.
"""

import contextlib
import errno
import fcntl
import json
import os
import sys
import time
from typing import Iterator

LOCK_FILE = '.run.lock'


class RootInUseError(RuntimeError):
  """Another process is running the pipeline on this root."""


def _holder(path: str) -> str:
  try:
    with open(path, encoding='utf-8') as f:
      info = json.load(f)
    return (f"process {info['pid']} (since {info['started']}: "
            f"{info['command']})")
  except (OSError, ValueError, KeyError):
    return 'another process'


@contextlib.contextmanager
def hold(pipeline_root: str, wait: bool = False) -> Iterator[str]:
  """Holds the root's lock for the block; yields the lock file's path.

  Raises:
    RootInUseError: the root is locked and `wait` is False.
  """
  os.makedirs(pipeline_root, exist_ok=True)
  path = os.path.join(pipeline_root, LOCK_FILE)
  fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
  try:
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except OSError as e:
      if e.errno not in (errno.EAGAIN, errno.EACCES):
        raise
      raise RootInUseError(
          f'{pipeline_root} is in use by {_holder(path)}; wait for it to '
          'finish, pass --wait to queue behind it, or give this run another '
          '--output_root') from None
    os.ftruncate(fd, 0)
    os.write(fd, json.dumps({
        'pid': os.getpid(),
        'started': time.strftime('%Y-%m-%d %H:%M:%S'),
        'command': ' '.join(sys.argv)}).encode('utf-8'))
    yield path
  finally:
    os.close(fd)
