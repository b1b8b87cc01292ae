"""The model flags both runners share, so they cannot drift apart.

Each flag overrides one field of the chosen preset's ModelConfig; a flag left
out keeps the preset's value (pipeline/configs.py).
"""

import argparse
from typing import Dict, Optional, Sequence

from pipeline import configs

_FIELDS = ('loss', 'resample', 'warm_start', 'weights', 'image_size', 'alpha', 'epochs', 'batch_size',
           'steps_per_epoch', 'seed', 'distribution_strategy')


def add_model_arguments(
    parser: argparse.ArgumentParser, *, preset_help: str,
    default_preset: Optional[str] = None,
    weights_help: str = "'imagenet', 'none' or a local weights file",
    strategies: Sequence[str] = configs.DISTRIBUTION_STRATEGIES,
    strategy_help: Optional[str] = None) -> argparse._ArgumentGroup:  # pylint: disable=protected-access
  """Adds --preset and the ModelConfig overrides as one argument group."""
  model = parser.add_argument_group(
      'model (default: the preset; see pipeline/configs.py)')
  model.add_argument('--preset', choices=sorted(configs.PRESETS),
                     default=default_preset, help=preset_help)
  model.add_argument('--loss', choices=configs.LOSSES,
                     help="'weighted_bce' (per-label class weights from "
                          "the train split), 'cohort_weighted_bce' (per "
                          "Male x Young cohort) or plain 'bce'")
  model.add_argument('--resample', choices=configs.RESAMPLING,
                     help="balance the cohorts in the training stream: "
                          "'oversample' the smaller, 'undersample' the "
                          "larger (default 'none')")
  model.add_argument('--warm_start', action='store_true', default=None,
                     help='fine-tune the model being served (same network) '
                          'instead of starting anew; without a served model, '
                          'train as without this flag')
  model.add_argument('--weights', help=weights_help)
  model.add_argument('--image_size', type=int)
  model.add_argument('--alpha', type=float, help='MobileNetV2 width')
  model.add_argument('--epochs', type=int)
  model.add_argument('--batch_size', type=int)
  model.add_argument('--steps_per_epoch', type=int)
  model.add_argument('--seed', type=int,
                     help='seeds initialization, shuffling, augmentation and '
                          'resampling (default 42)')
  model.add_argument('--distribution_strategy', choices=list(strategies),
                     help=strategy_help)
  model.add_argument('--no_explain', action='store_true',
                     help='skip the explanation stage')
  return model


def model_overrides(args: argparse.Namespace) -> Dict[str, object]:
  """The ModelConfig fields the flags set (None where they keep the preset)."""
  return {field: getattr(args, field) for field in _FIELDS}
