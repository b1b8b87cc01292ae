"""Runs the pipeline on this machine: LocalDagRunner, SQLite MLMD, Beam.

    python local_runner.py                          # the built-in sample
    python local_runner.py --celeba_dir ~/celeba    # CelebA, official or Kaggle
    python local_runner.py --celeba_dir ~/tensorflow_datasets/celeb_a/2.1.0
    python local_runner.py --loss bce               # plain BCE, unweighted

Every default lives in pipeline/configs.py; flags only override it.
"""

import argparse
import logging
import os
import sys
from typing import List, Optional

# Light imports only, so --help answers at once; TFX is imported to run.
from components.contracts import local_layout
from pipeline import configs
from pipeline import model_flags


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  data = parser.add_argument_group('data (default: the built-in sample)')
  data.add_argument('--celeba_dir',
                    help='raw CelebA, official (txt) or Kaggle (csv) layout, '
                         'or a TFDS-prepared celeb_a folder; converted to '
                         'TFRecords once, then reused')
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
                     help='artifacts and metadata.sqlite (default '
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
      parser, preset_help="'sample' for the generated sample, else 'celeba'")

  run = parser.add_argument_group('execution')
  run.add_argument('--direct_num_workers', type=int,
                   help='Beam DirectRunner workers (1: in-process; more: '
                        'multi-processing; 0: one per CPU)')
  run.add_argument('--disable_cache', action='store_true',
                   help='re-run every component even if nothing changed')
  return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
  args = parse_args(argv)
  # pylint: disable=g-import-not-at-top
  from tfx import v1 as tfx
  from components.celeba import local_data
  from pipeline import pipeline
  from pipeline import run_summary
  # pylint: enable=g-import-not-at-top
  logging.basicConfig(level=logging.INFO, format='%(levelname)s %(message)s')
  paths = local_layout.local_paths(args.output_root, args.pipeline_root,
                                   args.serving_dir)
  sample = configs.SampleConfig(args.sample_images, args.sample_seed)
  sample_dir = paths.sample_dir(sample.num_images, sample.seed)
  data_root = local_data.resolve_data_root(
      data_dir=args.data_dir, celeba_dir=args.celeba_dir,
      converted_dir=paths.converted_dir(args.celeba_dir or sample_dir),
      sample_dir=sample_dir,
      sample_images=sample.num_images, sample_seed=sample.seed,
      skip_bad=args.skip_bad)
  generated = local_data.is_generated(data_root)
  config = configs.for_run(
      preset=args.preset or ('sample' if generated else 'celeba'),
      explain=not args.no_explain,
      direct_num_workers=args.direct_num_workers,
      **model_flags.model_overrides(args))

  dag = pipeline.create_pipeline(
      config,
      data_root=data_root,
      pipeline_root=paths.pipeline_root,
      serving_dir=paths.serving_dir,
      baseline_dir=args.baseline_dir and os.path.abspath(args.baseline_dir),
      metadata_connection_config=(
          tfx.orchestration.metadata.sqlite_metadata_connection_config(
              paths.metadata_path)),
      beam_pipeline_args=configs.local_beam_args(config.direct_num_workers),
      enable_cache=not args.disable_cache,
      data_note=local_data.GENERATED_NOTE if generated else '')
  try:
    tfx.orchestration.LocalDagRunner().run(dag)
  except Exception as e:  # pylint: disable=broad-except
    print(run_summary.failure(paths.metadata_path, config.name, e),
          file=sys.stderr)
    return 1
  print(run_summary.success(paths.metadata_path, config.name,
                            synthetic=generated))
  return 0


if __name__ == '__main__':
  sys.exit(main())
