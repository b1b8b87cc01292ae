"""Wall and CPU time of the Evaluator, with and without confidence intervals.

    python benchmarks/evaluator_benchmark.py --pipeline_root outputs/pipeline_root
    python benchmarks/evaluator_benchmark.py --pipeline_root ROOT \\
        --intervals on off --auc_num_thresholds 1000 10000 --repeats 2

Runs TFX's own Evaluator executor (what the pipeline's Evaluator node runs,
with the same progress-logging user module)
on the Examples and the Model that the latest run's Evaluator judged, found in
the run's MLMD store, with the EvalConfig that pipeline/eval_config.py builds
for the chosen preset, varied by --intervals and --auc_num_thresholds. Each
variant runs in a fresh subprocess, and the figures cover only the executor's
`Do` (no imports): wall seconds and the process's CPU seconds (user + system;
Beam's in-process runner uses threads of this process). The load average is
printed beside them: the machines are shared and wall times move with it,
CPU seconds much less. Each output's AUC on the whole split is printed too,
so what fewer AUC buckets change is seen beside what they save. The outputs
go to a temporary folder and are deleted.
"""

import argparse
import dataclasses
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)


def _evaluator_inputs(pipeline_root: str):
  """The Examples and Model artifacts the latest run's Evaluator read."""
  # pylint: disable=g-import-not-at-top
  from components.contracts import node_ids
  from components.contracts import run_results
  from pipeline import configs
  store = run_results.connect(os.path.join(pipeline_root, 'metadata.sqlite'))
  for run_id in reversed(run_results.run_ids(store, configs.PIPELINE_NAME)):
    run = run_results.load_run(store, configs.PIPELINE_NAME, run_id)
    node = run.get(node_ids.EVALUATOR)
    if node is not None and node.inputs.get('model'):
      return node.inputs['examples'][-1], node.inputs['model'][-1]
  raise LookupError(f'no run with an Evaluator in {pipeline_root}')


def _child(args: argparse.Namespace) -> None:
  """One variant: the executor's Do, timed; prints one JSON line."""
  # pylint: disable=g-import-not-at-top
  import models  # pylint: disable=unused-import
  from google.protobuf import json_format
  from tfx.components.evaluator import executor
  from tfx.types import standard_artifacts
  from tfx.types import standard_component_specs as specs
  from components import evaluation_progress
  from components.contracts import evaluation as evaluation_reader
  from components.contracts import metric_names
  from components.contracts import run_results
  from models import features
  from pipeline import configs
  from pipeline import eval_config
  examples, model = _evaluator_inputs(args.pipeline_root)
  preset = configs.PRESETS[args.preset]
  evaluation = dataclasses.replace(
      preset.evaluation, confidence_intervals=args.intervals == 'on',
      auc_num_thresholds=args.auc)
  config = eval_config.make_eval_config(
      dataclasses.replace(preset, evaluation=evaluation))
  # No baseline here, so no change thresholds (as the Evaluator does).
  for spec in config.metrics_specs:
    for metric in spec.metrics:
      for per_slice in metric.per_slice_thresholds:
        per_slice.threshold.ClearField('change_threshold')
  with tempfile.TemporaryDirectory(prefix='evaluator-benchmark-') as out:
    evaluation_artifact = standard_artifacts.ModelEvaluation()
    evaluation_artifact.uri = os.path.join(out, 'evaluation')
    blessing = standard_artifacts.ModelBlessing()
    blessing.uri = os.path.join(out, 'blessing')
    started = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_SELF)
    # The Beam engine the pipeline's Evaluator runs on.
    context = executor.Executor.Context(
        beam_pipeline_args=configs.local_beam_args(1, setup_file=None),
        tmp_dir=os.path.join(out, 'tmp'))
    executor.Executor(context).Do(
        {specs.EXAMPLES_KEY: [run_results.to_artifact(
            examples, standard_artifacts.Examples)],
         specs.MODEL_KEY: [run_results.to_artifact(
             model, standard_artifacts.Model)]},
        {specs.EVALUATION_KEY: [evaluation_artifact],
         specs.BLESSING_KEY: [blessing]},
        {specs.EVAL_CONFIG_KEY: json_format.MessageToJson(config),
         specs.EXAMPLE_SPLITS_KEY: json.dumps([args.split]),
         specs.MODULE_PATH_KEY: evaluation_progress.__name__})
    after = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.monotonic() - started
    blessed = sorted(os.listdir(blessing.uri))
    overall = evaluation_reader.load_evaluation(
        evaluation_artifact.uri).candidate()[()]
    aucs = {output: overall[output].get(metric_names.AUC)
            for output in features.LABEL_KEYS}
  print(json.dumps({
      'intervals': args.intervals, 'auc_num_thresholds': args.auc,
      'wall_s': round(wall, 1),
      'cpu_s': round(after.ru_utime + after.ru_stime - before.ru_utime -
                     before.ru_stime, 1),
      # ru_maxrss is in KiB on Linux: the process's peak, and its growth
      # over what the imports and inputs had taken before Do.
      'peak_rss_gib': round(after.ru_maxrss / 2**20, 2),
      'rss_growth_gib': round((after.ru_maxrss - before.ru_maxrss) / 2**20,
                              2),
      'load_average': round(os.getloadavg()[0], 2), 'blessing': blessed,
      'auc': aucs}))


def main() -> int:
  parser = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--pipeline_root', required=True,
                      help='a pipeline root holding metadata.sqlite')
  parser.add_argument('--preset', default='sample')
  parser.add_argument('--split', default='test')
  parser.add_argument('--intervals', nargs='+', default=['off', 'on'],
                      choices=['on', 'off'])
  parser.add_argument('--auc_num_thresholds', nargs='+', type=int,
                      help="default: the preset's")
  parser.add_argument('--repeats', type=int, default=1)
  parser.add_argument('--child_auc', type=int, help=argparse.SUPPRESS)
  parser.add_argument('--child_intervals', help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.child_intervals:
    args.intervals, args.auc = args.child_intervals, args.child_auc
    _child(args)
    return 0
  # pylint: disable=g-import-not-at-top
  from models import features
  from pipeline import configs
  aucs = args.auc_num_thresholds or [
      configs.PRESETS[args.preset].evaluation.auc_num_thresholds]
  print(f'{"intervals":>9} {"AUC buckets":>11} {"wall s":>7} {"CPU s":>6} '
        f'{"peak GiB":>8} {"growth":>6} {"load":>5} '
        + ' '.join(f'{"AUC " + k:>10}' for k in features.LABEL_KEYS)
        + '  blessing')
  for _, intervals, auc in itertools.product(range(args.repeats),
                                             args.intervals, aucs):
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__),
         '--pipeline_root', args.pipeline_root, '--preset', args.preset,
         '--split', args.split, '--child_intervals', intervals,
         '--child_auc', str(auc)],
        capture_output=True, text=True, cwd=REPO, check=False,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
    if proc.returncode != 0:
      print(proc.stderr[-3000:], file=sys.stderr)
      return proc.returncode
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f'{intervals:>9} {auc:>11} {result["wall_s"]:>7.1f} '
          f'{result["cpu_s"]:>6.1f} {result["peak_rss_gib"]:>8.2f} '
          f'{result["rss_growth_gib"]:>6.2f} {result["load_average"]:>5.2f} '
          + ' '.join(f'{result["auc"][k]:>10.5f}' for k in features.LABEL_KEYS)
          + f'  {", ".join(result["blessing"])}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
