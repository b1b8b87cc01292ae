"""Progress of a long epoch, logged while it runs.

Keras' `verbose=2` prints a line per epoch, and on CelebA at 224 px an epoch
on a CPU is hours: a user sees nothing between the start and the end. This
callback logs the step, the throughput and the running loss at most every
`every_seconds`, and when a validation pass starts and ends, so a run that is
working can be told from one that hangs.
"""

import time
from typing import Any, Dict, Optional

from absl import logging
import tf_keras


class StepProgress(tf_keras.callbacks.Callback):
  """Logs training steps and validation passes at most every few seconds."""

  def __init__(self, steps_per_epoch: int, batch_size: int,
               every_seconds: float = 30.0):
    super().__init__()
    self._steps = steps_per_epoch
    self._batch_size = batch_size
    self._every = every_seconds
    self._epoch = 0
    self._epoch_started = self._last_log = 0.0

  def on_epoch_begin(self, epoch: int,
                     logs: Optional[Dict[str, Any]] = None) -> None:
    self._epoch = epoch + 1
    self._epoch_started = self._last_log = time.monotonic()

  def on_train_batch_end(self, batch: int,
                         logs: Optional[Dict[str, Any]] = None) -> None:
    now = time.monotonic()
    if now - self._last_log < self._every:
      return
    self._last_log = now
    done = batch + 1
    rate = done * self._batch_size / max(now - self._epoch_started, 1e-9)
    loss = (logs or {}).get('loss')
    logging.info('Trainer: epoch %d, step %d of %d, %.0f images/s%s',
                 self._epoch, done, self._steps, rate,
                 f', loss {loss:.4f}' if loss is not None else '')

  def on_test_begin(self, logs: Optional[Dict[str, Any]] = None) -> None:
    self._test_started = time.monotonic()
    logging.info('Trainer: epoch %d, validating', self._epoch)

  def on_test_end(self, logs: Optional[Dict[str, Any]] = None) -> None:
    logging.info('Trainer: epoch %d, validation took %.0f s', self._epoch,
                 time.monotonic() - self._test_started)
