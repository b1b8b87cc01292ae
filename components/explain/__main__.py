"""Explain a trained or pushed model from the command line.

  # What pushes each prediction, for any image file(s) (JPEG, PNG, ...):
  python -m components.explain saliency --model outputs/serving_model \\
      --image face.jpg --output_dir /tmp/explained

  # The latent space and per-cohort saliency of labelled TFRecords
  # (e.g. the converted test split), as the pipeline's ModelExplainer does:
  python -m components.explain embeddings --model outputs/serving_model \\
      --examples 'outputs/tfrecords/celeba-3000-seed7/test/*.tfrecord.gz' \\
      --output_dir /tmp/explained

--model takes a SavedModel folder, the Pusher's destination (the latest push
is used) or a Trainer Model artifact. Defaults come from
pipeline.configs.ExplainConfig (the preset given by --preset); each flag
overrides one field. Every run writes explanation.json beside the figures;
`embeddings` also writes the Embedding Projector files
(`tensorboard --logdir OUT/projector`, the Projector tab).
"""

import os

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import argparse  # pylint: disable=g-import-not-at-top
import dataclasses
import sys
from typing import List, Optional

from components.explain import examples as examples_lib
from components.explain import run
from components.explain import served_model
from pipeline import configs

_OVERRIDES = {
    # flag: ExplainConfig field
    'max_images': 'max_embedding_images',
    'tsne_max_images': 'tsne_max_images',
    'tsne_iterations': 'tsne_iterations',
    'images_per_cohort': 'saliency_images_per_cohort',
    'average_images_per_cohort': 'saliency_average_images_per_cohort',
    'steps': 'integrated_gradients_steps',
    'seed': 'seed',
}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(
      prog='python -m components.explain', description=__doc__,
      formatter_class=argparse.RawDescriptionHelpFormatter)
  commands = parser.add_subparsers(dest='command', required=True)

  def common(sub):
    sub.add_argument('--model', required=True,
                     help='SavedModel, push destination or Trainer model')
    sub.add_argument('--output_dir', required=True)
    sub.add_argument('--preset', choices=sorted(configs.PRESETS),
                     default='sample',
                     help='whose ExplainConfig gives the defaults '
                          '(default %(default)s)')
    sub.add_argument('--steps', type=int,
                     help='Integrated Gradients steps')

  saliency = commands.add_parser(
      'saliency', help='saliency maps of image files, one figure each')
  common(saliency)
  saliency.add_argument('--image', required=True, nargs='+',
                        help='image file(s); non-JPEGs are converted')

  embed = commands.add_parser(
      'embeddings',
      help='projector files, 2-D maps and per-cohort saliency of '
           'labelled TFRecords')
  common(embed)
  embed.add_argument('--examples', required=True, nargs='+',
                     help='TFRecord glob(s) or folders of tf.Examples '
                          '(GZIP when named *.gz)')
  embed.add_argument('--max_images', type=int)
  embed.add_argument('--tsne_max_images', type=int)
  embed.add_argument('--tsne_iterations', type=int)
  embed.add_argument('--images_per_cohort', type=int)
  embed.add_argument('--average_images_per_cohort', type=int)
  embed.add_argument('--seed', type=int)
  return parser.parse_args(argv)


def config_from(args: argparse.Namespace) -> configs.ExplainConfig:
  config = configs.PRESETS[args.preset].explain
  changes = {field: getattr(args, flag) for flag, field in _OVERRIDES.items()
             if getattr(args, flag, None) is not None}
  return dataclasses.replace(config, **changes)


def main(argv: Optional[List[str]] = None) -> int:
  args = parse_args(argv)
  config = config_from(args)
  try:
    if args.command == 'saliency':
      document = run.explain_image_files(
          args.model, args.image, args.output_dir,
          config.integrated_gradients_steps)
    else:
      document = run.explain_examples(
          args.model, examples_lib.list_files(args.examples),
          args.output_dir, config)
  except (served_model.ModelNotFoundError, FileNotFoundError,
          ValueError) as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  print(f'Explained {document["model_uri"]} in {document["seconds"]:.1f} s')
  for figure in document['figures']:
    print(f'  {figure["section"]}: '
          f'{os.path.join(args.output_dir, figure["file"])}')
  if 'projector' in document:
    print(f'Embedding Projector: {document["projector"]["tensorboard"]}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
