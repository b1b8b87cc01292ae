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
is used) or a Trainer Model artifact. Every other flag is a field of
ExplainConfig (components/explain/config.py) under the same name, with the
same default. Every run writes explanation.json beside the figures;
`embeddings` also writes the Embedding Projector files
(`tensorboard --logdir OUT/projector`, the Projector tab).
"""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import argparse  # pylint: disable=g-import-not-at-top
import dataclasses
import sys
from typing import List, Optional, Sequence

from components.explain import config as config_lib
from components.explain import examples as examples_lib
from components.explain import run
from components.explain import served_model

_DEFAULTS = config_lib.ExplainConfig()
# The fields each command uses; `enabled` belongs to the pipeline.
_SALIENCY_FIELDS = ('integrated_gradients_steps',)
_EMBEDDINGS_FIELDS = tuple(f.name for f in dataclasses.fields(_DEFAULTS)
                           if f.name != 'enabled')


def _add_fields(parser: argparse.ArgumentParser,
                names: Sequence[str]) -> None:
  for name in names:
    default = getattr(_DEFAULTS, name)
    parser.add_argument(f'--{name}', type=type(default), default=default,
                        help='default %(default)s')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(
      prog='python -m components.explain', description=__doc__,
      formatter_class=argparse.RawDescriptionHelpFormatter)
  commands = parser.add_subparsers(dest='command', required=True)

  def common(sub):
    sub.add_argument('--model', required=True,
                     help='SavedModel, push destination or Trainer model')
    sub.add_argument('--output_dir', required=True)

  saliency = commands.add_parser(
      'saliency', help='saliency maps of image files, one figure each')
  common(saliency)
  saliency.add_argument('--image', required=True, nargs='+',
                        help='image file(s); non-JPEGs are converted')
  _add_fields(saliency, _SALIENCY_FIELDS)

  embed = commands.add_parser(
      'embeddings',
      help='projector files, 2-D maps and per-cohort saliency of '
           'labelled TFRecords')
  common(embed)
  embed.add_argument('--examples', required=True, nargs='+',
                     help='TFRecord glob(s) or folders of tf.Examples '
                          '(GZIP when named *.gz)')
  _add_fields(embed, _EMBEDDINGS_FIELDS)
  return parser.parse_args(argv)


def config_from(args: argparse.Namespace) -> config_lib.ExplainConfig:
  fields = (_SALIENCY_FIELDS if args.command == 'saliency' else
            _EMBEDDINGS_FIELDS)
  return dataclasses.replace(
      _DEFAULTS, **{name: getattr(args, name) for name in fields})


def main(argv: Optional[List[str]] = None) -> int:
  args = parse_args(argv)
  try:
    config = config_from(args)
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
