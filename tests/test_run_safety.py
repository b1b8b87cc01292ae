"""What keeps a pipeline root sane across dead, concurrent and repeated runs.

Abandoned executions closed by the next run, the generated sample written
whole, the up-to-date record's digest, the console/log split, and how a
failure is turned into one message and an exit status.
"""

import errno
import os
import subprocess
import sys

from ml_metadata.proto import metadata_store_pb2

from components import import_examples
from components import data_validation_gate
from components.celeba import local_data
from components.contracts import label_balance
from components.contracts import run_results
from pipeline import abandoned_runs
from pipeline import exit_codes
from pipeline import run_summary
from pipeline import up_to_date
from tests import pipeline_runs


def _store_with_a_dead_run(tmp_path):
  """A store whose Trainer execution is RUNNING with a pending model."""
  path = str(tmp_path / 'root' / 'metadata.sqlite')
  os.makedirs(os.path.dirname(path))
  store = run_results.connect(path)
  execution_type = store.put_execution_type(
      metadata_store_pb2.ExecutionType(name='Trainer'))
  artifact_type = store.put_artifact_type(
      metadata_store_pb2.ArtifactType(name='Model'))
  folder = tmp_path / 'root' / 'Trainer' / 'model' / '7'
  (folder / 'Format-Serving').mkdir(parents=True)
  (artifact_id,) = store.put_artifacts([metadata_store_pb2.Artifact(
      type_id=artifact_type, uri=str(folder),
      state=metadata_store_pb2.Artifact.PENDING)])
  done, running = store.put_executions([
      metadata_store_pb2.Execution(
          type_id=execution_type,
          last_known_state=metadata_store_pb2.Execution.COMPLETE),
      metadata_store_pb2.Execution(
          type_id=execution_type,
          last_known_state=metadata_store_pb2.Execution.RUNNING)])
  store.put_events([metadata_store_pb2.Event(
      artifact_id=artifact_id, execution_id=running,
      type=metadata_store_pb2.Event.PENDING_OUTPUT)])
  return path, done, running, artifact_id, folder


def test_a_dead_runs_executions_are_closed_and_its_outputs_removed(tmp_path):
  path, done, running, artifact_id, folder = _store_with_a_dead_run(tmp_path)
  cleanup = abandoned_runs.close_abandoned(path, str(tmp_path / 'root'),
                                           'run-2')
  assert cleanup.executions == [running]
  assert cleanup.removed_folders == [os.path.realpath(folder)]
  assert not folder.exists()
  store = run_results.connect(path)
  by_id = {e.id: e for e in store.get_executions()}
  assert by_id[running].last_known_state == (
      metadata_store_pb2.Execution.CANCELED)
  assert by_id[running].custom_properties[
      abandoned_runs.ABANDONED_BY].string_value == 'run-2'
  assert by_id[done].last_known_state == metadata_store_pb2.Execution.COMPLETE
  (artifact,) = store.get_artifacts_by_id([artifact_id])
  assert artifact.state == metadata_store_pb2.Artifact.ABANDONED
  again = abandoned_runs.close_abandoned(path, str(tmp_path / 'root'), 'run-3')
  assert not again.executions and not again.removed_folders


def test_nothing_outside_the_pipeline_root_is_removed(tmp_path):
  path, _, _, artifact_id, _ = _store_with_a_dead_run(tmp_path)
  elsewhere = tmp_path / 'elsewhere'
  elsewhere.mkdir()
  store = run_results.connect(path)
  (artifact,) = store.get_artifacts_by_id([artifact_id])
  artifact.uri = str(elsewhere)
  store.put_artifacts([artifact])
  cleanup = abandoned_runs.close_abandoned(path, str(tmp_path / 'root'), 'r')
  assert not cleanup.removed_folders
  assert elsewhere.exists()


def test_concurrent_writers_leave_one_whole_sample(tmp_path):
  raw_dir = str(tmp_path / 'sample' / 'celeba-40-seed3')
  # Separate interpreters importing only the data tools, as two runners are.
  script = ('from components.celeba import local_data; '
            f'local_data.ensure_sample({raw_dir!r}, 40, 3)')
  writers = [subprocess.Popen([sys.executable, '-c', script],
                              cwd=pipeline_runs.REPO) for _ in range(2)]
  assert [w.wait(120) for w in writers] == [0, 0]
  assert sorted(os.listdir(tmp_path / 'sample')) == ['celeba-40-seed3']
  assert len(os.listdir(os.path.join(raw_dir, 'img_align_celeba'))) == 40


def test_a_half_written_sample_is_generated_again(tmp_path):
  raw_dir = str(tmp_path / 'celeba-40-seed3')
  local_data.ensure_sample(raw_dir, 40, 3)
  images = os.path.join(raw_dir, 'img_align_celeba')
  for name in sorted(os.listdir(images))[:15]:
    os.remove(os.path.join(images, name))
  local_data.ensure_sample(raw_dir, 40, 3)
  assert len(os.listdir(images)) == 40


def _digest(tmp_path, **changes):
  data = tmp_path / 'data'
  shard = data / 'train' / 'x.tfrecord.gz'
  if not shard.exists():
    shard.parent.mkdir(parents=True)
    shard.write_bytes(b'data')
  values = dict(config={'epochs': 8}, data_root=str(data),
                marker_file='conversion.json',
                serving_dir=str(tmp_path / 'serving'),
                metadata_path=str(tmp_path / 'none.sqlite'),
                beam_args=['--direct_num_workers=1'])
  values.update(changes)
  return up_to_date.digest(**values)


def test_the_digest_follows_every_input_of_the_cache(tmp_path):
  first = _digest(tmp_path)
  assert _digest(tmp_path) == first
  assert _digest(tmp_path, config={'epochs': 9}) != first
  assert _digest(tmp_path, beam_args=[]) != first
  (tmp_path / 'data' / 'train' / 'x.tfrecord.gz').write_bytes(b'other data')
  changed_data = _digest(tmp_path)
  assert changed_data != first
  (tmp_path / 'serving' / '1').mkdir(parents=True)
  assert _digest(tmp_path) != changed_data


def test_a_record_is_only_trusted_while_its_outputs_exist(tmp_path):
  report = tmp_path / 'report'
  report.mkdir()
  up_to_date.save(str(tmp_path), up_to_date.Record(
      digest='d', run_id='r', exit_status=3, summary='s',
      outputs=[str(report)]))
  assert up_to_date.load(str(tmp_path)).exit_status == 3
  report.rmdir()
  assert up_to_date.load(str(tmp_path)) is None
  up_to_date.forget(str(tmp_path))
  assert up_to_date.load(str(tmp_path)) is None


def test_third_party_output_goes_to_the_log_and_ours_to_the_console(tmp_path):
  script = f'''
import logging, os, sys, warnings
sys.path.insert(0, {pipeline_runs.REPO!r})
from absl import logging as absl_logging
from pipeline import console
with console.capture({str(tmp_path / "run.log")!r}, verbose=False) as out:
  os.write(2, b'E cuda_fft.cc: Unable to register cuFFT factory\\n')
  warnings.warn('non-supported Python version', FutureWarning)
  absl_logging.info('Component %s is running.', 'Trainer')
  absl_logging.info('A cached execution %d is used.', 3)
  absl_logging.info('Component %s is finished.', 'Trainer')
  print('summary line', file=out.out)
'''
  done = subprocess.run([sys.executable, '-c', script], capture_output=True,
                        text=True, timeout=60)
  assert done.returncode == 0, done.stderr
  log = (tmp_path / 'run.log').read_text()
  assert 'Unable to register cuFFT factory' in log
  assert 'non-supported Python version' in log
  for noise in ('cuFFT', 'FutureWarning'):
    assert noise not in done.stdout + done.stderr
  assert 'Trainer ...' in done.stdout
  assert 'Trainer cached' in done.stdout
  assert 'summary line' in done.stdout


def test_failures_become_one_line_and_a_status():
  anomalies = data_validation_gate.DataAnomaliesError('labels out of domain')
  assert run_summary.classify(anomalies)[0] == exit_codes.BAD_INPUT
  corrupt = RuntimeError(
      "components.import_examples.CorruptExamplesError: /d/train/x.gz: record "
      "3 cannot be read: truncated [while running 'Copy']")
  status, line = run_summary.classify(corrupt)
  assert status == exit_codes.BAD_INPUT
  assert line == '/d/train/x.gz: record 3 cannot be read: truncated'
  assert import_examples.CorruptExamplesError.__name__ in corrupt.args[0]
  full = OSError(errno.ENOSPC, 'No space left on device', '/out/model')
  status, line = run_summary.classify(full)
  assert status == exit_codes.FAILED
  assert line.startswith('the disk is full writing /out/model')
  wrapped = RuntimeError('boom')
  wrapped.__cause__ = full
  assert run_summary.classify(wrapped)[1].startswith('the disk is full')
  empty = label_balance.EmptySplitError("split 'test' has no examples: ...")
  assert run_summary.classify(empty) == (exit_codes.BAD_INPUT,
                                         "split 'test' has no examples: ...")


def test_a_conversion_that_fills_the_disk_says_so(tmp_path, monkeypatch,
                                                  capsys):
  from components.celeba import __main__ as cli  # pylint: disable=g-import-not-at-top
  from components.celeba import convert  # pylint: disable=g-import-not-at-top
  from components.celeba import synth  # pylint: disable=g-import-not-at-top
  synth.synthesize(tmp_path / 'celeba', 30, seed=1)

  def full(task, tick=None):
    del tick
    raise OSError(errno.ENOSPC, 'No space left on device', task.path)

  monkeypatch.setattr(convert, '_write_shard', full)
  status = cli.main(['convert', '--celeba_dir', str(tmp_path / 'celeba'),
                     '--output_dir', str(tmp_path / 'out'), '--quiet'])
  assert status == 2
  err = capsys.readouterr().err
  assert err.startswith('error: ')
  assert 'no space left on the disk' in err
  assert str(tmp_path / 'out') in err
  assert not (tmp_path / 'out').exists()
