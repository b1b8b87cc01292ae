"""The generated CelebA: layout, determinism, label model and noise."""

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from components.celeba import synth
from models import features


@pytest.fixture(scope='module')
def plan4000():
  return synth.plan(4000, seed=0)


def _files(root: Path):
  return {p.relative_to(root).as_posix(): p.read_bytes()
          for p in sorted(root.rglob('*')) if p.is_file()}


def test_same_seed_same_bytes_different_seed_different(tmp_path):
  a = _files(Path(synth.synthesize(tmp_path / 'a', 12, seed=3).output_dir))
  b = _files(Path(synth.synthesize(tmp_path / 'b', 12, seed=3).output_dir))
  c = _files(Path(synth.synthesize(tmp_path / 'c', 12, seed=4).output_dir))
  assert a == b
  assert a.keys() == c.keys()
  images = [k for k in a if k.endswith('.jpg')]
  assert len(images) == 12
  assert all(a[k] != c[k] for k in images)
  assert a['list_attr_celeba.txt'] != c['list_attr_celeba.txt']


def test_worker_processes_write_the_same_bytes_as_one(tmp_path):
  one = synth.synthesize(tmp_path / 'one', 40, seed=5, workers=1)
  two = synth.synthesize(tmp_path / 'two', 40, seed=5, workers=2)
  assert _files(Path(one.output_dir)) == _files(Path(two.output_dir))
  assert one == dataclasses.replace(two, output_dir=one.output_dir)
  done = []
  synth.synthesize(tmp_path / 'three', 40, seed=5, workers=2,
                   progress=lambda n, total: done.append((n, total)))
  assert done and done[-1] == (40, 40)


def test_official_layout_and_padded_format(tmp_path):
  summary = synth.synthesize(tmp_path, 20, seed=1)
  lines = (tmp_path / 'list_attr_celeba.txt').read_text().split('\n')
  assert lines[0] == '20'
  # trailing space, like the real file
  assert lines[1] == ' '.join(features.ATTRIBUTE_NAMES) + ' '
  rows = lines[2:-1]
  assert len(rows) == 20 and lines[-1] == ''
  assert all(re.fullmatch(r'\d{6}\.jpg( -1|  1){40}', row) for row in rows)
  assert rows[0].startswith('000001.jpg ') and '  1' in ''.join(rows)
  partitions = (tmp_path / 'list_eval_partition.txt').read_text().splitlines()
  assert all(re.fullmatch(r'\d{6}\.jpg [012]', row) for row in partitions)
  assert [int(r[-1]) for r in partitions
         ] == sorted(int(r[-1]) for r in partitions)
  identities = (tmp_path / 'identity_CelebA.txt').read_text().splitlines()
  assert all(re.fullmatch(r'\d{6}\.jpg \d+', row) for row in identities)
  assert sorted(summary.partition_counts) == [0, 1, 2]
  assert all(summary.partition_counts.values())   # every partition, even at 20
  with Image.open(tmp_path / 'img_align_celeba' / '000020.jpg') as img:
    assert (img.format, img.mode, img.size) == ('JPEG', 'RGB', (178, 218))


def test_refuses_a_non_empty_folder_unless_overwrite(tmp_path):
  synth.synthesize(tmp_path, 5, seed=0)
  with pytest.raises(FileExistsError):
    synth.synthesize(tmp_path, 5, seed=0)
  synth.synthesize(tmp_path, 3, seed=0, overwrite=True)
  assert len(list((tmp_path / 'img_align_celeba').iterdir())) == 3


def test_male_young_rates_and_their_dependence(plan4000):
  male = plan4000.column('Male').astype(bool)
  young = plan4000.column('Young').astype(bool)
  assert male.mean() == pytest.approx(0.417, abs=0.03)
  assert young.mean() == pytest.approx(0.774, abs=0.03)
  assert young[~male].mean() == pytest.approx(0.85, abs=0.04)
  assert young[male].mean() == pytest.approx(0.668, abs=0.05)
  assert (male & ~young).mean() == pytest.approx(0.417 * 0.332, abs=0.03)
  assert (male & ~young).mean() < (male & young).mean()


def test_other_attribute_rates_follow_the_table(plan4000):
  expected = synth.expected_rates()
  for name in features.ATTRIBUTE_NAMES:
    assert plan4000.column(name).mean() == pytest.approx(
        expected[name], abs=0.03), name


def test_table_is_close_to_celeba():
  expected = synth.expected_rates()
  for name, (celeba_rate, _) in synth.ATTRIBUTE_RATES.items():
    assert expected[name] == pytest.approx(celeba_rate, abs=0.015), name
  assert set(synth.ATTRIBUTE_RATES) | {'Male', 'Young'} == set(
      features.ATTRIBUTE_NAMES)


def test_attribute_consistency(plan4000):
  female = plan4000.column('Male') == 0
  assert plan4000.column('No_Beard')[female].all()
  for name in ('Goatee', 'Mustache', '5_o_Clock_Shadow', 'Bald', 'Sideburns'):
    assert not plan4000.column(name)[female].any(), name
  bearded = plan4000.column('No_Beard') == 0
  for name in synth.BEARD_STYLES:
    assert not plan4000.column(name)[~bearded].any(), name
  for group in synth.EXCLUSIVE_GROUPS:
    assert (sum(plan4000.column(n).astype(int) for n in group)
            <= 1).all(), group
  lipstick = plan4000.column('Wearing_Lipstick').astype(bool)
  assert female[lipstick].mean() > 0.95
  gray = plan4000.column('Gray_Hair').astype(bool)
  assert (plan4000.column('Young')[gray] == 0).mean() > 0.8
  # a drawn attribute must not leak the cohort
  for name in synth.DRAWN_ATTRIBUTES:
    assert len(set(synth.ATTRIBUTE_RATES[name][1])) == 1, name


def test_partitions_by_identity(plan4000):
  fractions = np.bincount(plan4000.partitions, minlength=3) / 4000
  assert fractions == pytest.approx(synth.PARTITION_FRACTIONS, abs=0.01)
  owners = {}
  for identity, partition in zip(plan4000.identities, plan4000.partitions):
    assert owners.setdefault(identity, partition) == partition
  labels = {}
  for identity, m, y in zip(plan4000.identities, plan4000.column('Male'),
                            plan4000.column('Young')):
    assert labels.setdefault(identity, (m, y)) == (m, y)
  assert (np.diff(plan4000.partitions) >= 0).all()   # train files first


def test_label_noise_and_best_accuracy():
  p = synth.plan(20000, seed=5)
  flip_male = (p.drawn_male != p.column('Male').astype(bool)).mean()
  flip_young = (p.drawn_young != p.column('Young').astype(bool)).mean()
  assert flip_male == pytest.approx(synth.MALE_LABEL_NOISE, abs=0.005)
  assert flip_young == pytest.approx(synth.YOUNG_LABEL_NOISE, abs=0.008)
  best = synth.best_achievable_accuracy()
  assert best == pytest.approx({'Male': 1 - synth.MALE_LABEL_NOISE,
                                'Young': 1 - synth.YOUNG_LABEL_NOISE})


def test_split_ceiling_counts_each_cohorts_flipped_labels(plan4000):
  ceiling = synth.split_ceiling(plan4000, partition=2)
  test = plan4000.partitions == 2
  male = plan4000.column('Male')[test].astype(bool)
  young = plan4000.column('Young')[test].astype(bool)
  flipped = {'Male': plan4000.drawn_male[test] != male,
             'Young': plan4000.drawn_young[test] != young}
  for output, wrong in flipped.items():
    assert set(ceiling[output]) == {'Overall', *features.cohort_names()}
    assert ceiling[output]['Overall'] == 1 - wrong.sum() / test.sum()
    for m, y in features.COHORTS:
      members = (male == m) & (young == y)
      assert members.sum() > 0
      assert ceiling[output][features.cohort_name(m, y)] == pytest.approx(
          1 - wrong[members].sum() / members.sum())
  # The split's own draw of flips, near the label model's expectation.
  assert ceiling['Young']['Overall'] == pytest.approx(
      1 - synth.YOUNG_LABEL_NOISE, abs=0.03)
  assert ceiling != synth.split_ceiling(plan4000, partition=0)
