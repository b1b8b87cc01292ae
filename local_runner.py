"""Runs the pipeline on this machine: LocalDagRunner, SQLite MLMD, Beam.

    python local_runner.py                          # the built-in sample
    python local_runner.py --celeba_dir ~/celeba    # CelebA, official or Kaggle
    python local_runner.py --celeba_dir ~/tensorflow_datasets/celeb_a/2.1.0
    python local_runner.py --loss bce               # plain BCE, unweighted

Every default lives in pipeline/configs.py; flags only override it. The
console shows each component as it runs and the summary at the end; the
whole log (TensorFlow's and TFX's output included) is in
PIPELINE_ROOT/logs/, or on the console with --verbose.
"""

import argparse
import dataclasses
import datetime
import logging
import os
import signal
import sys
from typing import List, Optional

# Light imports only, so --help and bad flags answer at once and an
# unchanged rerun finishes without TensorFlow; TFX is imported to run.
from components import interrupts
from components.celeba import convert
from components.celeba import errors as celeba_errors
from components.celeba import local_data
from components.contracts import local_layout
from pipeline import abandoned_runs
from pipeline import configs
from pipeline import console
from pipeline import exit_codes
from pipeline import model_flags
from pipeline import preflight
from pipeline import run_lock
from pipeline import up_to_date


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(
      description=__doc__, epilog=exit_codes.HELP,
      formatter_class=argparse.RawDescriptionHelpFormatter)
  data = parser.add_argument_group('data (default: the built-in sample)')
  data.add_argument('--celeba_dir',
                    help='raw CelebA: official (txt), Kaggle (csv) or '
                         'TFDS-prepared layout; converted to TFRecords once, '
                         'then reused')
  data.add_argument('--data_dir',
                    help='already converted TFRecords (train/, eval/, test/)')
  data.add_argument('--skip_bad', action='store_true',
                    help='convert around bad images instead of failing '
                         '(they are listed in rejected.csv)')
  data.add_argument('--sample_images', type=int,
                    default=configs.SAMPLE_DATA.num_images,
                    help='size of the built-in sample (default %(default)s)')
  data.add_argument('--sample_seed', type=int,
                    default=configs.SAMPLE_DATA.seed,
                    help='seed of the built-in sample (default %(default)s)')

  where = parser.add_argument_group('outputs')
  where.add_argument('--output_root', default=local_layout.DEFAULT_OUTPUT_ROOT,
                     help='default home of the sample, converted TFRecords, '
                          'pipeline root and serving folder (default '
                          '%(default)s)')
  where.add_argument('--pipeline_root',
                     help='artifacts, metadata.sqlite and logs/ (default '
                          'OUTPUT_ROOT/pipeline_root)')
  where.add_argument('--serving_dir',
                     help='where a blessed model is pushed (default '
                          'OUTPUT_ROOT/serving_model)')
  where.add_argument('--baseline_dir',
                     help='the served models the Evaluator compares a new '
                          'model with: a folder of SavedModel versions (the '
                          'newest is the baseline) or one SavedModel '
                          '(default: the serving folder)')

  model_flags.add_model_arguments(
      parser, preset_help=(f"'sample' for generated data up to "
                           f'{configs.SAMPLE_PRESET_MAX_IMAGES:,} images, '
                           "else 'celeba'"),
      strategies=configs.LOCAL_DISTRIBUTION_STRATEGIES,
      strategy_help="'mirrored' for several local GPUs ('multi_worker' "
                    'needs a cluster; see kubeflow_runner.py)')

  run = parser.add_argument_group('execution')
  run.add_argument('--direct_num_workers', type=int,
                   help='Beam DirectRunner workers (1: in-process; more: '
                        'multi-processing; 0: one per CPU)')
  run.add_argument('--disable_cache', action='store_true',
                   help='re-run every component even if nothing changed')
  run.add_argument('--recheck', action='store_true',
                   help='run the pipeline through TFX even when nothing '
                        'changed since the last complete run (every '
                        'component is then found in the cache)')
  run.add_argument('--wait', action='store_true',
                   help='if another run holds the pipeline root, wait for it '
                        'instead of exiting')
  run.add_argument('--verbose', action='store_true',
                   help='everything on the console, tracebacks included, '
                        'instead of the log file')
  return parser.parse_args(argv)


def _run(args: argparse.Namespace, paths: local_layout.LocalPaths,
         run_id: str, out: console.Console, log_path: str) -> int:
  """Resolves the data, then runs the pipeline (or finds it up to date)."""
  sample = configs.SampleConfig(args.sample_images, args.sample_seed)
  sample_dir = paths.sample_dir(sample.num_images, sample.seed)
  try:
    data_root = local_data.resolve_data_root(
        data_dir=args.data_dir, celeba_dir=args.celeba_dir,
        converted_dir=paths.converted_dir(args.celeba_dir or sample_dir),
        sample_dir=sample_dir,
        sample_images=sample.num_images, sample_seed=sample.seed,
        skip_bad=args.skip_bad)
  except (celeba_errors.CelebAFormatError, FileExistsError,
          FileNotFoundError) as e:
    print(f'error: {e}', file=out.err)
    return exit_codes.BAD_INPUT
  generated = local_data.is_generated(data_root)
  preset, why = ((args.preset, 'chosen with --preset') if args.preset else
                 configs.choose_preset(generated,
                                       local_data.num_examples(data_root)))
  print(f'Preset {preset!r}: {why}.', file=out.out)
  config = configs.for_run(
      preset=preset, explain=not args.no_explain,
      direct_num_workers=args.direct_num_workers,
      **model_flags.model_overrides(args))
  beam_args = configs.local_beam_args(config.direct_num_workers)
  baseline_dir = args.baseline_dir and os.path.abspath(args.baseline_dir)

  def digest() -> str:
    return up_to_date.digest(
        config=dataclasses.asdict(config), data_root=data_root,
        marker_file=convert.MARKER_FILE, serving_dir=paths.serving_dir,
        metadata_path=paths.metadata_path, beam_args=beam_args,
        baseline_dir=baseline_dir)

  if not (args.recheck or args.disable_cache):
    record = up_to_date.load(paths.pipeline_root)
    if record is not None and record.digest == digest():
      print(f'Nothing changed since run {record.run_id} (configuration, '
            'data, schema, code, TFX stack, serving folder, metadata store): '
            'its results stand and nothing was run; --recheck runs the '
            'pipeline through TFX.\n', file=out.out)
      print(record.summary, file=out.out)
      return record.exit_status
  up_to_date.forget(paths.pipeline_root)
  closed = abandoned_runs.close_abandoned(paths.metadata_path,
                                          paths.pipeline_root, run_id)
  if closed.executions:
    print(f'Closed {len(closed.executions)} execution(s) a stopped run left '
          f'running as abandoned; removed {len(closed.removed_folders)} '
          'unfinished output folder(s).', file=out.out)

  # pylint: disable=g-import-not-at-top
  from tfx.orchestration import metadata
  from pipeline import local_execution
  from pipeline import pipeline
  from pipeline import run_summary
  # pylint: enable=g-import-not-at-top
  dag = pipeline.create_pipeline(
      config,
      data_root=data_root,
      pipeline_root=paths.pipeline_root,
      serving_dir=paths.serving_dir,
      baseline_dir=baseline_dir,
      metadata_connection_config=(
          metadata.sqlite_metadata_connection_config(
              paths.metadata_path)),
      beam_pipeline_args=beam_args,
      enable_cache=not args.disable_cache,
      data_note=local_data.GENERATED_NOTE if generated else '')
  try:
    with interrupts.retried():
      local_execution.run(dag, run_id)
  except (KeyboardInterrupt, Exception) as e:  # pylint: disable=broad-except
    # A stop can surface as another error from inside TensorFlow.
    stop = interrupts.stop_behind(e)
    if stop is not None:
      print(run_summary.interrupted(paths.metadata_path, config.name, run_id,
                                    str(stop) or 'Ctrl-C'), file=out.err)
      return exit_codes.INTERRUPTED
    if args.verbose:
      raise
    logging.exception('The run failed.')  # the log file only
    status, text = run_summary.failure(paths.metadata_path, config.name,
                                       run_id, e, log_path)
    print(text, file=out.err)
    return status
  summary = run_summary.success(paths.metadata_path, config.name, run_id,
                                paths.serving_dir, synthetic=generated)
  print(summary.text, file=out.out)
  if not args.disable_cache:
    up_to_date.save(paths.pipeline_root, up_to_date.Record(
        digest=digest(), run_id=run_id, exit_status=summary.exit_status,
        summary=summary.text, outputs=summary.outputs))
  return summary.exit_status


def main(argv: Optional[List[str]] = None) -> int:
  args = parse_args(argv)
  # SIGTERM stops a run the way Ctrl-C does, and is reported the same.
  interrupts.install({
      signal.SIGINT: KeyboardInterrupt,
      signal.SIGTERM: lambda: KeyboardInterrupt('terminated (SIGTERM)')})
  try:
    preflight.check(args)
  except preflight.BadInputError as e:
    print(f'error: {e}', file=sys.stderr)
    return exit_codes.BAD_INPUT
  paths = local_layout.local_paths(args.output_root, args.pipeline_root,
                                   args.serving_dir)
  # As LocalDagRunner names runs, unique with the process id.
  run_id = f'{datetime.datetime.now().isoformat()}-{os.getpid()}'
  log_path = os.path.join(paths.pipeline_root, 'logs',
                          f'{run_id.replace(":", "")}.log')
  try:
    with run_lock.hold(paths.pipeline_root, wait=args.wait):
      with console.capture(log_path, args.verbose) as out:
        return _run(args, paths, run_id, out, log_path)
  except run_lock.RootInUseError as e:
    print(f'error: {e}', file=sys.stderr)
    return exit_codes.FAILED
  except KeyboardInterrupt:
    print('Interrupted before the pipeline started; nothing to resume.',
          file=sys.stderr)
    return exit_codes.INTERRUPTED


if __name__ == '__main__':
  sys.exit(main())
