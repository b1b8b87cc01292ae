"""Weighted BCE against plain BCE on the generated sample, per cohort.

    python benchmarks/loss_study.py [--sample_images 3000]

Runs `local_runner.py` once per loss, each in its own output root (so each
model is judged alone, without a baseline), then prints from the Evaluator's
metrics: accuracy per output against the best accuracy the sample's label
noise allows, accuracy per cohort under each loss, and how the weighted loss
moves the worst cohort. These are generated-sample figures, not CelebA ones.
"""

import argparse
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from components.contracts import evaluation as er
from components.celeba import synth
from models import features
from components.contracts import local_layout
from pipeline import configs
from components.contracts import run_results
from components.contracts import metric_names
from components.contracts import node_ids

LOSSES = ('bce', 'weighted_bce')


def _run(loss: str, root: str, sample_images: int) -> er.Evaluation:
  command = [sys.executable, os.path.join(REPO, 'local_runner.py'),
             '--output_root', root, '--sample_images', str(sample_images),
             '--loss', loss, '--no_explain']
  print('running:', ' '.join(command), flush=True)
  with open(os.path.join(root, 'run.log'), 'w') as log:
    subprocess.run(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                   stdin=subprocess.DEVNULL, check=True,
                   env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  store = run_results.connect(local_layout.local_paths(root).metadata_path)
  run = run_results.load_run(store, configs.PIPELINE_NAME)
  return er.load_evaluation(
      run.nodes[node_ids.EVALUATOR].output_uri('evaluation'))


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument('--sample_images', type=int,
                      default=configs.SAMPLE_DATA.num_images)
  parser.add_argument('--work_dir', help='default: a new temporary folder')
  args = parser.parse_args()
  work = args.work_dir or tempfile.mkdtemp(prefix='loss-study-')
  results = {}
  for loss in LOSSES:
    root = os.path.join(work, loss)
    os.makedirs(root, exist_ok=True)
    results[loss] = _run(loss, root, args.sample_images)

  best = synth.best_achievable_accuracy()
  acc = metric_names.ACCURACY
  print(f'\nGenerated sample, {args.sample_images} images (NOT CelebA); '
        'test split accuracy')
  print(f'{"output":<7} {"slice":<20} {"n":>5} ' +
        ' '.join(f'{loss:>13}' for loss in LOSSES) + f' {"change":>8}')
  for output in features.LABEL_KEYS:
    keys = [er.OVERALL] + results[LOSSES[0]].cohorts()
    for key in keys:
      values = [results[loss].candidate()[key][output].get(acc)
                for loss in LOSSES]
      count = results[LOSSES[0]].candidate()[key][output].get(
          metric_names.EXAMPLE_COUNT)
      print(f'{output:<7} {er.slice_name(key):<20} {count:5.0f} ' +
            ' '.join(f'{v:13.1%}' for v in values) +
            f' {values[1] - values[0]:+8.1%}')
    print(f'{"":<7} best achievable overall (label noise): {best[output]:.1%}')
    for loss in LOSSES:
      worst = results[loss].worst_cohort(output)
      value = results[loss].candidate()[worst][output].get(acc)
      print(f'{"":<7} worst cohort under {loss}: {er.slice_name(worst)} '
            f'({value:.1%})')
  print(f'\noutputs under {work}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
