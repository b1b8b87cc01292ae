"""Executions a killed or interrupted run left RUNNING, closed by the next run.

A local run that dies (SIGKILL, a crash, the machine going down) leaves its
current execution RUNNING in MLMD forever and its half-written output folder
(`Trainer/model/N`, say) on disk. Reports would show it as in progress and
nothing would ever remove the folder. Holding the root's lock (run_lock), a
new run knows no other process can be running on this store, so whatever
is still RUNNING or NEW was abandoned: its executions are marked CANCELED
(with the run that found them), their pending outputs ABANDONED, and those
outputs' folders under the pipeline root removed.
"""

import dataclasses
import os
import shutil
from typing import List

from ml_metadata.proto import metadata_store_pb2

from components.contracts import run_results

_UNFINISHED = (metadata_store_pb2.Execution.RUNNING,
               metadata_store_pb2.Execution.NEW)
ABANDONED_BY = 'abandoned_found_by_run'


@dataclasses.dataclass
class Cleanup:
  executions: List[int]
  removed_folders: List[str]


def close_abandoned(metadata_path: str, pipeline_root: str,
                    run_id: str) -> Cleanup:
  """Marks unfinished executions abandoned and removes their output folders.

  Only call with the pipeline root's lock held.
  """
  cleanup = Cleanup(executions=[], removed_folders=[])
  if not os.path.exists(metadata_path):
    return cleanup
  store = run_results.connect(metadata_path)
  stale = [e for e in store.get_executions()
           if e.last_known_state in _UNFINISHED]
  if not stale:
    return cleanup
  events = store.get_events_by_execution_ids([e.id for e in stale])
  outputs = {ev.artifact_id for ev in events
             if ev.type in (metadata_store_pb2.Event.OUTPUT,
                            metadata_store_pb2.Event.PENDING_OUTPUT,
                            metadata_store_pb2.Event.DECLARED_OUTPUT)}
  artifacts = store.get_artifacts_by_id(list(outputs))
  root = os.path.realpath(pipeline_root)
  for artifact in artifacts:
    if artifact.state not in (metadata_store_pb2.Artifact.PENDING,
                              metadata_store_pb2.Artifact.UNKNOWN):
      continue
    artifact.state = metadata_store_pb2.Artifact.ABANDONED
    folder = os.path.realpath(artifact.uri) if artifact.uri else ''
    if folder.startswith(root + os.sep) and os.path.exists(folder):
      shutil.rmtree(folder, ignore_errors=True)
      cleanup.removed_folders.append(folder)
  if artifacts:
    store.put_artifacts(artifacts)
  for execution in stale:
    execution.last_known_state = metadata_store_pb2.Execution.CANCELED
    execution.custom_properties[ABANDONED_BY].string_value = run_id
    cleanup.executions.append(execution.id)
  store.put_executions(stale)
  return cleanup
