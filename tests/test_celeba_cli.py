"""The command line, end to end in subprocesses, as a user runs it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import celeba_files

REPO = Path(__file__).resolve().parents[1]


def _run(*args):
  env = dict(os.environ, PYTHONPATH=str(REPO))
  return subprocess.run(
      [sys.executable, '-m', 'components.celeba', *map(str, args)], cwd=REPO,
      env=env, capture_output=True, text=True, timeout=120)


def test_help_lists_both_commands():
  done = _run('--help')
  assert done.returncode == 0
  assert 'convert' in done.stdout and 'synth' in done.stdout
  assert '--skip_bad' in _run('convert', '--help').stdout


@pytest.mark.e2e  # runs a whole program
def test_synth_then_convert_then_a_bad_header(tmp_path):
  celeba, out = tmp_path / 'celeba', tmp_path / 'out'
  done = _run('synth', '--output_dir', celeba, '--num_images', 25, '--seed', 2)
  assert done.returncode == 0, done.stderr
  assert 'wrote 25 images' in done.stdout

  done = _run('convert', '--celeba_dir', celeba, '--output_dir', out, '--quiet')
  assert done.returncode == 0, done.stderr
  assert 'converted 25 images (official layout)' in done.stdout
  for split in ('train', 'eval', 'test'):
    assert split in done.stdout
  assert (out / 'conversion.json').exists()

  line = celeba_files.break_header(celeba, 'count_mismatch')
  done = _run('convert', '--celeba_dir', celeba, '--output_dir', out)
  assert done.returncode == 2
  table = celeba / 'list_attr_celeba.txt'
  assert f'error: {table}:{line}: line 1 says 26 images' in done.stderr
  # the good conversion is still there
  assert (out / 'conversion.json').exists()

  done = _run('convert', '--celeba_dir', tmp_path / 'nowhere', '--output_dir',
              out)
  assert done.returncode == 2 and 'not a directory' in done.stderr
