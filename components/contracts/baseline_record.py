"""Which baseline an evaluation was judged against, or why it had none.

The Evaluator's executor (components.baseline.evaluator) writes this record
into its own output folder, beside TFMA's metrics, so whoever reads the
evaluation (the slice report, the console summary) can say what the change
thresholds were checked against without any MLMD query: the same way on
every orchestrator. Plain JSON, no TFX import.
"""

import dataclasses
import json
import os
from typing import Optional

import tensorflow as tf

RECORD_FILE = 'baseline.json'


@dataclasses.dataclass(frozen=True)
class BaselineRecord:
  """The baseline of one evaluation.

  Attributes:
    used: whether the Evaluator compared the candidate with a baseline (and
      so checked the change thresholds).
    source: the folder the baseline was looked up in ('' if not known).
    served_uri: the served SavedModel that was copied as the baseline.
    version: its version (folder name) in `source`.
    note: one sentence for a reader: what the baseline was, or why there was
      none.
  """
  used: bool
  source: str = ''
  served_uri: str = ''
  version: str = ''
  note: str = ''


def write(record: BaselineRecord, evaluation_uri: str) -> str:
  path = os.path.join(evaluation_uri, RECORD_FILE)
  tf.io.gfile.makedirs(evaluation_uri)
  with tf.io.gfile.GFile(path, 'w') as f:
    json.dump(dataclasses.asdict(record), f, indent=2, sort_keys=True)
  return path


def read(evaluation_uri: str) -> Optional[BaselineRecord]:
  """The record of an evaluation folder, or None (an Evaluator without it)."""
  path = os.path.join(evaluation_uri, RECORD_FILE)
  if not tf.io.gfile.exists(path):
    return None
  with tf.io.gfile.GFile(path) as f:
    data = json.load(f)
  fields = {f.name for f in dataclasses.fields(BaselineRecord)}
  return BaselineRecord(**{k: v for k, v in data.items() if k in fields})
