"""End-to-end: the compiled Kubeflow packages, executed task by task.

`python kubeflow_runner.py` compiles the pipeline for `--platform kubeflow`
(KFP 2.x) and `--platform vertex`; tests/kfp_emulator.py then runs every
task of each package the way KFP's driver and launcher do: ExecutorInput
built from the package, inputs as the metadata store returns them (for the
kubeflow package with the empty types of KFP OSS), outputs under the
pipeline root, each container's own command, args and env (each container
a fork of a process that has imported the steps' libraries once:
tests/container_forks.py; tests/test_kubeflow_executor.py starts steps as
fresh interpreters). Both packages run at once, sharing two container
slots.

Each package is executed twice with one store (so KFP's cache sees the first
run): a model trained well enough to pass the sample's real floors, which is
blessed and pushed with nothing served before; then a package compiled with
one training step, whose data tasks come from the cache and whose model the
served one (the first run's) must stop. That second package has its absolute
floors compiled at 0, so the change threshold against the served model is
the only thing that can stop it: the regression guard is what is tested, not
the floors (which a one-step model misses too).

Paths inside the image: the package reads the curated schema at
/pipeline/schema/schema.pbtxt; /pipeline/ is mapped to this checkout (the
Dockerfile copies the checkout there). The pipeline root, data root and
serving folder are local folders under pytest's tmp, compiled in as such.
"""

import concurrent.futures
import dataclasses
import glob
import os
import threading
import time
from typing import Dict, List, Tuple

import numpy as np
import pytest
import tensorflow as tf

import kubeflow_runner
from components.celeba import local_data
from components.contracts import evaluation as er
from components.contracts import node_ids
from models import features
from models import signatures
from pipeline import configs
from tests import celeba_files
from tests import container_forks
from tests import example_data
from tests import kfp_emulator

pytestmark = pytest.mark.e2e

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE = 'registry.example.com/celeba-tfx:e2e'
PATH_MAP = {kubeflow_runner.IMAGE_SOURCE_DIR + '/': REPO + '/'}
PLATFORMS = (kubeflow_runner.KUBEFLOW, kubeflow_runner.VERTEX)
CONTAINER_SLOTS = 2

SAMPLE_IMAGES = 2000
SAMPLE_SEED = 7
# The sample preset's real thresholds and schedule, on small images to keep
# the Trainer short. The explainer runs once, in the kubeflow package's first
# execution (it reads the Pusher's record, which KFP hands over as doubles).
MODEL_FLAGS = ['--preset', 'sample', '--image_size', '48']
GOOD_FLAGS = {kubeflow_runner.KUBEFLOW: MODEL_FLAGS,
              kubeflow_runner.VERTEX: MODEL_FLAGS + ['--no_explain']}
WORSE_FLAGS = MODEL_FLAGS + ['--epochs', '1', '--steps_per_epoch', '1',
                             '--no_explain']

DATA_TASKS = (node_ids.CURATED_SCHEMA, node_ids.EXAMPLE_GEN,
              node_ids.STATISTICS_GEN, node_ids.DATA_REPORT,
              node_ids.SCHEMA_GEN, node_ids.EXAMPLE_VALIDATOR,
              node_ids.DATA_GATE, node_ids.TRANSFORM)
MODEL_TASKS = (node_ids.TRAINER, node_ids.SERVED_BASELINE, node_ids.EVALUATOR,
               node_ids.PUSHER, node_ids.SLICE_REPORT, node_ids.MODEL_CARD)


@pytest.fixture(scope='module')
def data_root(tmp_path_factory) -> str:
  """The generated sample, converted by the product's own code."""
  root = tmp_path_factory.mktemp('kfp-data')
  raw = local_data.ensure_sample(str(root / 'raw'), SAMPLE_IMAGES,
                                 SAMPLE_SEED)
  return local_data.ensure_converted(raw, str(root / 'tfrecords'))


def _without_floors(config: configs.PipelineConfig) -> configs.PipelineConfig:
  """The preset with every absolute floor at 0; the change threshold kept."""
  thresholds = config.thresholds
  return dataclasses.replace(config, thresholds=dataclasses.replace(
      thresholds,
      accuracy_floor={k: 0.0 for k in thresholds.accuracy_floor},
      cohort_accuracy_floor={k: 0.0 for k in thresholds.cohort_accuracy_floor}))


def _compile(platform: str, out_dir: str, pipeline_root: str,
             data_root: str, flags: List[str], name: str,
             floors: bool = True) -> Dict:
  output_file = os.path.join(out_dir, f'{platform}-{name}.yaml')
  with pytest.MonkeyPatch.context() as patch:
    if not floors:
      patch.setitem(configs.PRESETS, 'sample',
                    _without_floors(configs.PRESETS['sample']))
    assert kubeflow_runner.main([
        '--platform', platform, '--image', IMAGE,
        '--pipeline_root', pipeline_root, '--data_root', data_root,
        '--output_file', output_file, *flags]) == 0
  return kfp_emulator.load_package(output_file)


def _execute(platform: str, packages: Dict[str, Dict], work_dir: str,
             slots: threading.Semaphore,
             containers: container_forks.ForkedContainers
             ) -> Tuple[kfp_emulator.RunResult, kfp_emulator.RunResult]:
  store = kfp_emulator.Store()
  results = []
  for run_id in ('good', 'worse'):
    emulator = kfp_emulator.Emulator(
        packages[run_id], flavor=platform, path_map=PATH_MAP,
        work_dir=work_dir, store=store, workers=CONTAINER_SLOTS,
        slots=slots, cwd=REPO, containers=containers)
    results.append(emulator.run(f'run-{run_id}'))
    if not results[-1].succeeded:
      break
  results += [None] * (2 - len(results))
  return results[0], results[1]


def _timing_table(executions) -> str:
  lines = [f'{"package":<9} {"run":<6} {"task":<20} {"state":<9} seconds']
  for platform, runs in executions.items():
    for run in runs:
      if run is None:
        continue
      for task, state, seconds in run.timings():
        lines.append(f'{platform:<9} {run.run_id[4:]:<6} {task:<20} '
                     f'{state:<9} {seconds:7.1f}')
      lines.append(f'{platform:<9} {run.run_id[4:]:<6} {"(wall)":<20} '
                   f'{"":<9} {run.seconds:7.1f}')
  return '\n'.join(lines)


@pytest.fixture(scope='module')
def executions(data_root, tmp_path_factory):
  """Both packages, each executed twice (good model, then a worse one)."""
  root = tmp_path_factory.mktemp('kfp-e2e')
  started = time.monotonic()
  packages = {}
  for platform in PLATFORMS:
    pipeline_root = str(root / platform / 'pipeline_root')
    packages[platform] = {
        'good': _compile(platform, str(root), pipeline_root, data_root,
                         GOOD_FLAGS[platform], 'good'),
        'worse': _compile(platform, str(root), pipeline_root, data_root,
                          WORSE_FLAGS, 'worse', floors=False)}
  compiled = time.monotonic()
  slots = threading.Semaphore(CONTAINER_SLOTS)
  containers = container_forks.ForkedContainers(str(root / 'forks'))
  try:
    with concurrent.futures.ThreadPoolExecutor(len(PLATFORMS)) as pool:
      futures = {platform: pool.submit(_execute, platform, packages[platform],
                                       str(root / platform / 'work'), slots,
                                       containers)
                 for platform in PLATFORMS}
      results = {platform: future.result()
                 for platform, future in futures.items()}
  finally:
    containers.close()
  print(f'\ncompiled 4 packages in {compiled - started:.1f} s; executed in '
        f'{time.monotonic() - compiled:.1f} s\n{_timing_table(results)}')
  return dict(results=results, packages=packages, root=root)


@pytest.fixture(params=PLATFORMS)
def platform(request) -> str:
  return request.param


def _good(executions, platform) -> kfp_emulator.RunResult:
  run = executions['results'][platform][0]
  assert run.succeeded, run.failures()
  return run


def _worse(executions, platform) -> kfp_emulator.RunResult:
  _good(executions, platform)
  run = executions['results'][platform][1]
  assert run.succeeded, run.failures()
  return run


def _serving_dir(executions, platform) -> str:
  return str(executions['root'] / platform / 'pipeline_root' / 'serving_model')


def _evaluation(run: kfp_emulator.RunResult):
  evaluation = er.load_evaluation(run.uri(node_ids.EVALUATOR, 'evaluation'))
  return evaluation, evaluation.baseline_record


def _report(run: kfp_emulator.RunResult) -> str:
  folder = run.uri(node_ids.SLICE_REPORT, 'report')
  assert os.path.getsize(os.path.join(folder, 'report.html')) > 10_000
  with open(os.path.join(folder, 'report.md')) as f:
    return f.read()


# ------------------------------------------------------- the first execution


def test_every_task_of_the_package_succeeds(executions, platform):
  run = _good(executions, platform)
  explainer = ((node_ids.EXPLAINER,)
               if platform == kubeflow_runner.KUBEFLOW else ())
  assert set(run.tasks) == set(DATA_TASKS + MODEL_TASKS + explainer)
  for name, task in run.tasks.items():
    assert task.state == kfp_emulator.COMPLETE, name
  # The image paths the package names: the curated schema, and the
  # package's setup.py in the Beam args (--setup_file).
  assert sorted(run.mapped) == sorted([
      (kubeflow_runner.IMAGE_SCHEMA_FILE,
       os.path.join(REPO, 'schema', 'schema.pbtxt')),
      (kubeflow_runner.IMAGE_SETUP_FILE, os.path.join(REPO, 'setup.py'))])


def test_inputs_arrived_as_each_backend_sends_them(executions, platform):
  run = _good(executions, platform)
  evaluator = run.tasks[node_ids.EVALUATOR]
  inputs = evaluator.executor_input['inputs']['artifacts']
  types = {name: a['artifacts'][0]['type'] for name, a in inputs.items()}
  with open(evaluator.log_path) as f:
    log = f.read()
  if platform == kubeflow_runner.KUBEFLOW:
    assert all(t == {'instanceSchema': ''} for t in types.values()), types
    assert ('restored the declared type of input(s) baseline_model, '
            'examples, model') in log
  else:
    assert all(t['instanceSchema'].startswith('title: tfx.')
               for t in types.values())
    assert 'restored the declared type' not in log


def test_first_run_has_no_baseline_and_says_so(executions, platform):
  run = _good(executions, platform)
  serving_dir = _serving_dir(executions, platform)
  baseline = run.metadata(node_ids.SERVED_BASELINE, 'baseline_model')
  assert baseline['served'] == 0.0  # an int, back from the store as a double
  assert isinstance(baseline['served'], float)
  evaluation, record = _evaluation(run)
  assert not evaluation.has_baseline
  assert evaluation.validation_ok, evaluation.failures
  assert not record.used
  assert record.note == (
      f'no model other than this candidate is served in {serving_dir}')
  report = _report(run)
  assert (f'candidate: BLESSED (no baseline: no model other than this '
          f'candidate is served in {serving_dir}, so only the floors were '
          'checked)') in report


def test_the_pushed_model_loads_and_predicts(executions, platform, data_root):
  run = _good(executions, platform)
  pushed = run.metadata(node_ids.PUSHER, 'pushed_model')
  assert pushed['pushed'] == 1.0
  (version,) = glob.glob(os.path.join(_serving_dir(executions, platform), '*'))
  assert pushed['pushed_destination'] == version
  serve = tf.saved_model.load(version).signatures[signatures.SERVING_DEFAULT]
  rows = list(celeba_files.read_examples(data_root)['test'].values())[:16]
  out = serve(examples=tf.constant([
      example_data.serialize({features.IMAGE_KEY: [r['image']]}) for r in rows]))
  for label in features.LABEL_KEYS:
    values = out[label].numpy().ravel()
    assert values.shape == (len(rows),)
    assert np.all((values >= 0) & (values <= 1))
  assert f'pushed to {version}' in _report(run)


def test_the_explainer_reads_the_push_as_kfp_hands_it_over(executions):
  run = _good(executions, kubeflow_runner.KUBEFLOW)
  explanation = run.metadata(node_ids.EXPLAINER, 'explanation')
  assert explanation['pushed'] == 1.0
  assert explanation['num_figures'] > 0
  report = _report(run)
  assert 'No explanation artifact' not in report.split('## Explanation')[1]


# ------------------------------------------------ the second, worse model


def test_worse_model_reuses_the_data_tasks_and_reruns_the_rest(executions,
                                                               platform):
  run = _worse(executions, platform)
  for name in DATA_TASKS:
    assert run.tasks[name].state == kfp_emulator.CACHED, name
  for name in MODEL_TASKS:
    # The baseline task is never cached: it reads the serving folder.
    assert run.tasks[name].state == kfp_emulator.COMPLETE, name


def test_worse_model_is_judged_against_the_served_one(executions, platform):
  good, run = _good(executions, platform), _worse(executions, platform)
  served = good.metadata(node_ids.PUSHER, 'pushed_model')['pushed_destination']
  baseline = run.metadata(node_ids.SERVED_BASELINE, 'baseline_model')
  assert baseline['served'] == 1.0
  assert baseline['served_uri'] == served
  evaluation, record = _evaluation(run)
  assert evaluation.has_baseline
  assert record.used and record.served_uri == served
  # Its floors are 0: the served baseline alone stops it.
  assert evaluation.failures
  assert all(f.is_diff for f in evaluation.failures), evaluation.failures
  assert evaluation.validation_ok is False
  blessing = run.metadata(node_ids.EVALUATOR, 'blessing')
  assert blessing['blessed'] == 0.0


def test_worse_model_is_not_pushed_and_the_report_says_why(executions,
                                                           platform):
  good, run = _good(executions, platform), _worse(executions, platform)
  assert run.metadata(node_ids.PUSHER, 'pushed_model')['pushed'] == 0.0
  served = good.metadata(node_ids.PUSHER, 'pushed_model')['pushed_destination']
  assert glob.glob(os.path.join(_serving_dir(executions, platform), '*')) == [
      served]
  report = _report(run)
  assert (f'candidate: NOT BLESSED (checked against the baseline, the model '
          f'served from {served}, change thresholds included)') in report
  assert ('candidate not blessed because it is worse than the baseline by '
          'more than the allowed drop (Male, Young).') in report
  assert 'absolute floor' not in report
