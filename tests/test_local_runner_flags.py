"""`python local_runner.py` refuses what cannot work before doing anything.

Each case runs the real command line in a subprocess and checks the exit
status (2), the one `error:` line and that no output folder was created.
None of them imports TensorFlow, so each answers in about a second.
"""

import os
import subprocess
import sys

import pytest

from tests import pipeline_runs


def _run(args, cwd=pipeline_runs.REPO, timeout=60):
  return subprocess.run([sys.executable, 'local_runner.py', *args], cwd=cwd,
                        capture_output=True, text=True, timeout=timeout,
                        stdin=subprocess.DEVNULL)


@pytest.fixture
def weights_035(tmp_path_factory):
  """A real no-top MobileNetV2 weights file of alpha 0.35."""
  path = tmp_path_factory.mktemp('weights') / 'alpha035.h5'
  import tf_keras  # pylint: disable=g-import-not-at-top
  tf_keras.applications.MobileNetV2(
      input_shape=(32, 32, 3), alpha=0.35, include_top=False,
      weights=None).save_weights(str(path))
  return str(path)


@pytest.mark.parametrize('flags,message', [
    (['--epochs', '-1'], '--epochs must be at least 1, got -1'),
    (['--epochs', '0'], '--epochs must be at least 1, got 0'),
    (['--steps_per_epoch', '0'], '--steps_per_epoch must be at least 1'),
    (['--batch_size', '0'], '--batch_size must be at least 1'),
    (['--image_size', '7'], '--image_size must be at least 32, got 7'),
    (['--alpha', '0'], '--alpha must be positive'),
    (['--weights', '/nonexistent.h5'], "'/nonexistent.h5' does not exist"),
    (['--celeba_dir', '/nonexistent'], '--celeba_dir /nonexistent: no such'),
    (['--sample_images', '5'], '--sample_images must be at least 100'),
    (['--direct_num_workers', '-2'], '--direct_num_workers must be >= 0'),
])
def test_a_bad_flag_is_refused_at_once_and_creates_nothing(
    tmp_path, flags, message):
  out = tmp_path / 'out'
  done = _run(['--output_root', str(out), *flags])
  assert done.returncode == 2, done.stderr
  assert done.stderr.startswith('error: ')
  assert message in done.stderr
  assert len(done.stderr.strip().splitlines()) == 1
  assert not out.exists()


def test_an_empty_data_dir_and_a_non_celeba_dir_are_named(tmp_path):
  (tmp_path / 'empty').mkdir()
  done = _run(['--output_root', str(tmp_path / 'out'), '--data_dir',
               str(tmp_path / 'empty')])
  assert done.returncode == 2
  assert f'--data_dir {tmp_path / "empty"}: no train/*.tfrecord.gz' in (
      done.stderr)
  done = _run(['--output_root', str(tmp_path / 'out'), '--celeba_dir',
               str(tmp_path / 'empty')])
  assert done.returncode == 2
  assert 'no CelebA tables found' in done.stderr
  assert not (tmp_path / 'out').exists()


def test_a_weights_file_of_another_width_is_refused(tmp_path, weights_035):
  done = _run(['--output_root', str(tmp_path / 'out'), '--weights',
               weights_035, '--alpha', '1.0'])
  assert done.returncode == 2
  assert 'first-layer filters, not the 32 of alpha=1' in done.stderr
  text = tmp_path / 'weights.h5'
  text.write_text('not hdf5')
  done = _run(['--output_root', str(tmp_path / 'out'), '--weights',
               str(text)])
  assert done.returncode == 2
  assert 'not a Keras weights file' in done.stderr
  assert not (tmp_path / 'out').exists()


def test_help_names_the_exit_statuses_and_only_local_strategies():
  done = _run(['--help'])
  assert done.returncode == 0
  for status in ('0 ', '1 ', '2 ', '3 ', '130'):
    assert f'  {status}' in done.stdout
  assert 'multi_worker' not in done.stdout.split('--distribution_strategy')[1]


def test_a_second_run_on_a_held_root_is_refused_naming_the_holder(tmp_path):
  """The lock is the kernel's: a holder that dies releases it."""
  root = tmp_path / 'out' / 'pipeline_root'
  holder = subprocess.Popen(
      [sys.executable, '-c',
       'import sys, time; sys.path.insert(0, sys.argv[1]);'
       'from pipeline import run_lock\n'
       'with run_lock.hold(sys.argv[2]):\n'
       '  print("held", flush=True); time.sleep(600)',
       pipeline_runs.REPO, str(root)], stdout=subprocess.PIPE, text=True)
  try:
    assert holder.stdout.readline().strip() == 'held'
    done = _run(['--output_root', str(tmp_path / 'out')])
    assert done.returncode == 1
    assert f'error: {root} is in use by process {holder.pid}' in done.stderr
    assert '--wait' in done.stderr
  finally:
    holder.kill()
    holder.wait()
  from pipeline import run_lock  # pylint: disable=g-import-not-at-top
  with run_lock.hold(str(root)):  # released with the dead holder
    assert os.path.exists(root / run_lock.LOCK_FILE)
