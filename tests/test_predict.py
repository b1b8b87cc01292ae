"""`python -m components.predict`: saved_model_cli's probabilities, per file.

The model is a tiny network exported by models.signatures.export into a
Pusher-style serving folder (tests/tiny_model.py); the reference is
TensorFlow's own `saved_model_cli run --signature_def serving_jpeg`, run on
the same files.
"""

import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest

from components.celeba import synth
from components.contracts import metric_names
from components.predict import __main__ as predict_cli
from components.predict import inputs
from components.predict import predictor as predictor_lib
from pipeline import configs
from pipeline import eval_config
from tests import example_data
from tests import tiny_model

REPO = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-5


@pytest.fixture(scope='module')
def serving(tmp_path_factory, shared_transform) -> Path:
  """A serving folder with two versions; the newer (seed 0) is the last."""
  root = tmp_path_factory.mktemp('predict') / 'serving_model'
  tiny_model.export_versions(root, shared_transform, seeds=(1, 0))
  return root


@pytest.fixture(scope='module')
def photos(tmp_path_factory) -> Path:
  """Generated faces, plus one JPEG of another size, in one folder."""
  tmp = tmp_path_factory.mktemp('predict')
  synth.synthesize(tmp / 'celeba', 10, seed=3)
  folder = tmp / 'photos'
  shutil.copytree(tmp / 'celeba' / synth.IMAGES_DIR, folder)
  (folder / 'wide.JPG').write_bytes(
      example_data.random_jpeg(np.random.default_rng(0), 320, 200))
  return folder


def _saved_model_cli(*args: str) -> str:
  """Runs TensorFlow's saved_model_cli from this interpreter's environment."""
  script = Path(sys.executable).with_name('saved_model_cli')
  command = [str(script)] if script.exists() else [
      sys.executable, '-m', 'tensorflow.python.tools.saved_model_cli']
  proc = subprocess.run(command + list(args), capture_output=True, text=True,
                        timeout=300, check=False)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return proc.stdout


def _cli_probabilities(model_dir: str, files: List[Path], tmp: Path
                       ) -> Dict[str, np.ndarray]:
  """What `saved_model_cli run --signature_def serving_jpeg` prints, parsed."""
  npy = tmp / 'image_bytes.npy'
  np.save(npy, np.array([f.read_bytes() for f in files], dtype=object))
  printed = _saved_model_cli(
      'run', '--dir', model_dir, '--tag_set', 'serve',
      '--signature_def', 'serving_jpeg', '--inputs', f'image_bytes={npy}')
  results = dict(re.findall(r'Result for output key (\w+):\n(\[.*?\]\])',
                            printed, re.DOTALL))
  number = r'[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?'
  return {key: np.array([float(v) for v in re.findall(number, text)])
          for key, text in results.items()}


def _read_csv(text: str) -> List[Dict[str, str]]:
  return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.e2e  # runs a whole program
def test_probabilities_equal_what_saved_model_cli_prints(
    serving, photos, tmp_path):
  newest = serving / '1700000001'
  files = sorted(photos.iterdir())
  expected = _cli_probabilities(str(newest), files, tmp_path)
  assert set(expected) == {'Male', 'Young'}

  proc = subprocess.run(
      [sys.executable, '-m', 'components.predict', '--model', str(serving),
       str(photos), '--batch_size', '4'],
      cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
  assert proc.returncode == 0, proc.stderr[-3000:]
  rows = _read_csv(proc.stdout)
  assert list(rows[0]) == ['file', 'Male_probability', 'Young_probability',
                           'Male', 'Young', 'cohort', 'error']
  assert [r['file'] for r in rows] == [str(f) for f in files]
  for output in ('Male', 'Young'):
    got = np.array([float(r[f'{output}_probability']) for r in rows])
    np.testing.assert_allclose(got, expected[output], atol=TOLERANCE, rtol=0)
    assert [int(r[output]) for r in rows] == [
        int(p > metric_names.DECISION_THRESHOLD) for p in got]
  names = {(1, 1): 'Young x Male', (1, 0): 'Non-Young x Male',
           (0, 1): 'Young x Female', (0, 0): 'Non-Young x Female'}
  assert [r['cohort'] for r in rows] == [
      names[int(r['Male']), int(r['Young'])] for r in rows]
  assert all(r['error'] == '' for r in rows)
  # A model whose probabilities all sit on one side would not test much.
  assert len({r['Young'] for r in rows}) == 2
  assert f'predicted {len(files)} of {len(files)} files' in proc.stderr


@pytest.mark.e2e  # runs a whole program
def test_sigterm_stops_it_and_leaves_no_csv(serving, photos, tmp_path):
  """Stopped while it predicts (one face at a time over 20,000 links to
  one file, so it is still running when the first rows reach the CSV),
  it says so, exits 130 and removes its half-written CSV."""
  many = tmp_path / 'many'
  many.mkdir()
  source = sorted(photos.glob('*.jpg'))[0]
  for i in range(20_000):
    os.link(source, many / f'{i:06d}.jpg')
  output = tmp_path / 'predictions.csv'
  part = tmp_path / 'predictions.csv.part'
  proc = subprocess.Popen(
      [sys.executable, '-m', 'components.predict', '--model', str(serving),
       str(many), '--batch_size', '1', '--output', str(output)],
      cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  try:
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline and not (
        part.exists() and part.stat().st_size):
      time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
  finally:
    proc.kill()
  assert proc.returncode == predict_cli.EXIT_INTERRUPTED, stderr[-3000:]
  assert stderr.rstrip().endswith('interrupted (SIGTERM)'), stderr[-3000:]
  assert not output.exists() and not part.exists()


@pytest.mark.e2e  # runs a whole program
def test_saved_model_cli_show_lists_the_signature_predict_uses(serving):
  shown = _saved_model_cli('show', '--dir', str(serving / '1700000001'),
                           '--tag_set', 'serve', '--signature_def',
                           'serving_jpeg')
  assert "inputs['image_bytes']" in shown and 'DT_STRING' in shown
  assert "outputs['Male']" in shown and "outputs['Young']" in shown


def test_undecodable_files_get_error_rows_and_the_others_predictions(
    serving, photos, tmp_path, capsys):
  folder = tmp_path / 'mixed'
  shutil.copytree(photos, folder)
  good = sorted(folder.iterdir())
  jpeg = good[2].read_bytes()
  (folder / '000002b.jpg').write_bytes(jpeg[:len(jpeg) // 3])   # cut short
  (folder / '000004b.jpg').write_bytes(b'not a picture')
  (folder / '000006b.jpg').write_bytes(b'')
  (folder / 'notes.txt').write_text('not listed: not a .jpg')
  output = tmp_path / 'predictions.csv'

  status = predict_cli.main(['--model', str(serving), str(folder),
                             str(tmp_path / 'missing.jpg'), '--output',
                             str(output), '--batch_size', '3'])
  assert status == 2
  rows = {r['file']: r for r in _read_csv(output.read_text())}
  assert not (tmp_path / 'predictions.csv.part').exists()
  errors = {Path(f).name: r['error'] for f, r in rows.items() if r['error']}
  assert errors['000002b.jpg'].startswith('undecodable: ')
  assert errors['000004b.jpg'] == ('not_jpeg: the file does not start with a '
                                   'JPEG marker')
  assert errors['000006b.jpg'] == 'undecodable: the file is empty'
  assert errors['missing.jpg'] == 'not_found: no such file or folder'
  assert len(errors) == 4 and 'notes.txt' not in {Path(f).name for f in rows}
  for f, r in rows.items():
    if r['error']:
      assert r['Male_probability'] == r['Male'] == r['cohort'] == ''

  # The good files get what they get without the bad ones beside them.
  alone = predictor_lib.Predictor(str(serving))
  reference = alone.probabilities([f.read_bytes() for f in good])
  for k, f in enumerate(good):
    row = rows[str(f)]
    assert row['error'] == ''
    for output in ('Male', 'Young'):
      assert abs(float(row[f'{output}_probability']) -
                 reference[output][k]) < TOLERANCE
  assert '4 files could not be predicted' in capsys.readouterr().err


def test_model_is_the_newest_version_or_the_one_named(serving, photos):
  newest = predictor_lib.Predictor(str(serving))
  older = predictor_lib.Predictor(str(serving / '1700000000'))
  assert newest.model_dir == str(serving / '1700000001')
  assert older.model_dir == str(serving / '1700000000')
  jpegs = [f.read_bytes() for f in sorted(photos.iterdir())[:3]]
  assert not np.allclose(newest.probabilities(jpegs)['Male'],
                         older.probabilities(jpegs)['Male'])


def test_no_model_is_bad_input(tmp_path, photos, capsys):
  status = predict_cli.main(['--model', str(tmp_path), str(photos)])
  assert status == 2
  assert capsys.readouterr().err.startswith(
      f"error: no SavedModel in '{tmp_path}'")


def test_labels_use_the_threshold_the_model_was_judged_at():
  config = eval_config.make_eval_config(configs.SAMPLE)
  (accuracy,) = [m for spec in config.metrics_specs for m in spec.metrics
                 if m.class_name == 'BinaryAccuracy'][:1]
  assert json.loads(accuracy.config)['threshold'] == (
      metric_names.DECISION_THRESHOLD)
  at = metric_names.DECISION_THRESHOLD
  prediction = predictor_lib.Prediction('a.jpg', {
      'Male': at,
      'Young': at + 1e-6
  })
  # As TFMA and Keras count it: above the threshold is positive.
  assert (prediction.label('Male'), prediction.label('Young')) == (0, 1)
  assert predictor_lib.Prediction('b.jpg', {},
                                  'undecodable: x').label('Male') is None


def test_arguments_expand_to_files_each_once(tmp_path):
  (tmp_path / 'd').mkdir()
  for name in ('b.jpg', 'a.JPEG', 'c.png', 'notes.txt'):
    (tmp_path / 'd' / name).write_bytes(b'x')
  (tmp_path / 'd' / 'sub').mkdir()
  (tmp_path / 'd' / 'sub' / 'e.jpg').write_bytes(b'x')
  (tmp_path / 'empty').mkdir()
  d = str(tmp_path / 'd')
  found = inputs.expand([
      d, f'{d}/b.jpg', f'{d}/c.png', f'{d}/**/*.jpg',
      str(tmp_path / 'empty'), f'{d}/*.gif', f'{d}/nope.jpg'
  ])
  assert [(os.path.relpath(i.path, tmp_path), i.problem) for i in found] == [
      ('d/a.JPEG', ''), ('d/b.jpg', ''), ('d/c.png', ''), ('d/sub/e.jpg', ''),
      ('empty', 'no_images: the folder holds no .jpg or .jpeg file'),
      ('d/*.gif', 'not_found: no file matches this pattern'),
      ('d/nope.jpg', 'not_found: no such file or folder')]
