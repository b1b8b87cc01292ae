"""Every knob of the pipeline, in one place.

Two presets cover the two ways the pipeline is run:

* `SAMPLE`: the built-in generated sample in CelebA's layout. Small and fast,
  so a new user sees every stage work in minutes on a laptop-class CPU.
* `CELEBA`: the real data set, following the reference study this project
  reproduces: a Keras MobileNetV2 with ImageNet weights, 224 px, 5 epochs,
  batch 64, on CelebA's official partitions. It reports gender 90.5% / age
  84% with plain BCE (BCE loss 0.65) and 95.5% / 86% with class-weighted BCE
  (0.33); its weakest cohorts were the Non-Young ones (Non-Young x Male under
  plain BCE, Non-Young x Female still after weighting). Published CelebA
  results for the two attributes reach about 98% (Male) and 87-89% (Young).

Runners pick a preset and override single fields from their flags with
`dataclasses.replace`; nothing else in the code base hard-codes a
hyperparameter, a threshold or a path.
"""

import dataclasses
import os
from typing import Dict, List, Optional, Tuple

from components.explain import config as explain_config
from models import features

PIPELINE_NAME = 'celeba-attributes'

LOSSES = ('weighted_bce', 'cohort_weighted_bce', 'bce')
RESAMPLING = ('none', 'oversample', 'undersample')
DISTRIBUTION_STRATEGIES = ('default', 'mirrored', 'multi_worker')
# multi_worker needs a cluster (TF_CONFIG) that a local run never has.
LOCAL_DISTRIBUTION_STRATEGIES = ('default', 'mirrored')
MIXED_PRECISION_MODES = ('auto', 'on', 'off')


@dataclasses.dataclass(frozen=True)
class SampleConfig:
  """The generated CelebA-layout sample used when no real data is given."""
  num_images: int = 3000
  seed: int = 7


@dataclasses.dataclass(frozen=True)
class ModelConfig:
  """Trainer hyperparameters; handed to `run_fn` as the Trainer's custom_config.

  Attributes:
    image_size: square input size the Transform graph resizes to.
    alpha: MobileNetV2 width multiplier.
    weights: 'imagenet' (downloaded by Keras), 'none' (from scratch) or a path
      to a local Keras weights file for the backbone.
    epochs: training epochs (with pretrained weights: fine-tuning epochs).
    frozen_epochs: epochs that train only the heads on a frozen pretrained
      backbone before fine-tuning; ignored when training from scratch.
    batch_size: examples per training step.
    learning_rate: peak Adam learning rate (heads phase, or from scratch);
      every phase decays it along a cosine to 5% of the peak.
    fine_tune_learning_rate: Adam learning rate once the backbone is unfrozen.
    loss: 'weighted_bce' (per label, each value weighted by its inverse
      frequency in train), 'cohort_weighted_bce' (per example, each
      Male x Young cohort weighted by its inverse frequency, for both
      outputs) or the plain 'bce'; the counts come from Transform.
    warm_start: start from the weights of the model being served (the
      Trainer's base_model; the same network configuration) and fine-tune
      it whole at fine_tune_learning_rate, as the reference study fine-tuned
      its first model; with nothing served, train as without it.
    resample: 'none', or balance the four cohorts in the training stream:
      'oversample' repeats the smaller cohorts' examples up to the largest
      cohort's count, 'undersample' draws the smallest cohort's count from
      each; an epoch is then four times that count.
    batch_norm_momentum: MobileNetV2 BatchNorm momentum. Keras' 0.999 keeps
      the moving statistics near their initial values for thousands of steps,
      so a network trained from scratch on little data predicts constants at
      inference; 0.9 lets them follow the data.
    dropout: dropout before the two heads.
    augment: random horizontal flips and small shifts.
    early_stopping_patience: epochs without eval-loss improvement before
      stopping; the best weights are restored.
    steps_per_epoch: cap on steps per epoch; None means one pass over train.
    distribution_strategy: 'default', 'mirrored' (all local GPUs) or
      'multi_worker' (cluster spec from TF_CONFIG, as KFP/Vertex provide).
    mixed_precision: 'auto' uses mixed_float16 only when a GPU is present.
    shuffle_buffer: examples held for shuffling (JPEG bytes, not pixels)
      when the data is streamed.
    max_cached_pixel_bytes: the training data is decoded once and its
      pixels kept in memory when they take at most this many bytes (float32;
      the sample's 2,406 training images at 96 px: 0.27 GB); larger data is
      decoded in every epoch.
    max_eval_examples: examples of the eval split each epoch's validation
      pass reads (the first ones, the same every epoch); None reads all.
    seed: seeds initialization, shuffling and augmentation, keeps the input
      order fixed and turns on TF's deterministic kernels, so a rerun on the
      same machine trains the same model; None trades that for a little
      throughput.
  """
  image_size: int = 96
  alpha: float = 0.35
  weights: str = 'none'
  epochs: int = 6
  frozen_epochs: int = 1
  batch_size: int = 32
  learning_rate: float = 6e-3
  fine_tune_learning_rate: float = 1e-4
  loss: str = 'weighted_bce'
  resample: str = 'none'
  warm_start: bool = False
  batch_norm_momentum: float = 0.9
  dropout: float = 0.2
  augment: bool = True
  early_stopping_patience: int = 3
  steps_per_epoch: Optional[int] = None
  distribution_strategy: str = 'default'
  mixed_precision: str = 'auto'
  shuffle_buffer: int = 4096
  max_cached_pixel_bytes: int = 1 << 30
  max_eval_examples: Optional[int] = None
  seed: Optional[int] = 42

  def __post_init__(self):
    for name in ('epochs', 'batch_size'):
      if getattr(self, name) < 1:
        raise ValueError(f'{name} must be at least 1, got '
                         f'{getattr(self, name)}')
    for name in ('steps_per_epoch', 'max_eval_examples'):
      if getattr(self, name) is not None and getattr(self, name) < 1:
        raise ValueError(f'{name} must be at least 1 (or unset), got '
                         f'{getattr(self, name)}')
    for name in ('frozen_epochs', 'early_stopping_patience',
                 'max_cached_pixel_bytes', 'shuffle_buffer'):
      if getattr(self, name) < 0:
        raise ValueError(f'{name} must be >= 0, got {getattr(self, name)}')
    for name in ('alpha', 'learning_rate', 'fine_tune_learning_rate'):
      if not getattr(self, name) > 0:
        raise ValueError(f'{name} must be positive, got '
                         f'{getattr(self, name)}')
    if not 0 <= self.dropout < 1:
      raise ValueError(f'dropout must be in [0, 1), got {self.dropout}')
    if self.loss not in LOSSES:
      raise ValueError(f'loss must be one of {LOSSES}, got {self.loss!r}')
    if self.resample not in RESAMPLING:
      raise ValueError(f'resample must be one of {RESAMPLING}, got '
                       f'{self.resample!r}')
    if self.distribution_strategy not in DISTRIBUTION_STRATEGIES:
      raise ValueError('distribution_strategy must be one of '
                       f'{DISTRIBUTION_STRATEGIES}, got '
                       f'{self.distribution_strategy!r}')
    if self.mixed_precision not in MIXED_PRECISION_MODES:
      raise ValueError(f'mixed_precision must be one of '
                       f'{MIXED_PRECISION_MODES}, got {self.mixed_precision!r}')
    if self.image_size < 32:
      raise ValueError(f'image_size must be at least 32, got {self.image_size}')


@dataclasses.dataclass(frozen=True)
class EvalThresholds:
  """What a model must show on the test split before it is pushed.

  Attributes:
    accuracy_floor: overall binary accuracy floor per output.
    cohort_accuracy_floor: binary accuracy floor per output on every one of
      the four Male x Young cohorts, i.e. a floor for the worst cohort.
    max_accuracy_drop: largest binary-accuracy drop per output, overall,
      tolerated against the baseline, the model being served
      (components.baseline; absolute, e.g. 0.01 = one point); checked only
      when a model other than the candidate is served.
  """
  accuracy_floor: Dict[str, float]
  cohort_accuracy_floor: Dict[str, float]
  max_accuracy_drop: float = 0.01


# Decision thresholds of the FPR / FNR sweep per cohort: the trade-off view
# Fairness Indicators gives, from core TFMA metrics.
DEFAULT_RATE_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclasses.dataclass(frozen=True)
class EvaluationOptions:
  """What the Evaluator measures besides the thresholds that bless a model.

  Attributes:
    confidence_intervals: TFMA's jackknife 95% interval on every metric of
      every slice (pipeline/eval_config.py says why the jackknife). Blessing
      stays on the point values either way.
    rate_thresholds: decision thresholds at which FPR and FNR are computed
      per output and slice, strictly between 0 and 1 and increasing.
    auc_num_thresholds: buckets of TFMA's AUC. Its confusion matrices at
      every bucket are kept and recomputed for each of the jackknife's 20
      samples in pure Python: at TFMA's default of 10,000 they were 85% of
      the Evaluator's time with intervals on the sample, and at 224 px they
      took 1.3 GiB and 55 s more than 1,000 on 2,532 test faces
      (`benchmarks/evaluator_benchmark.py --preset celeba`). What bucketing
      changes is set by how the scores spread, not by the number of faces:
      on a 1,300-face test split, 1,000 buckets gave each output's AUC
      within 0.00004 of 100,000 buckets, far inside the interval of even
      CelebA's 20,000-face test split.
  """
  confidence_intervals: bool = True
  rate_thresholds: Tuple[float, ...] = DEFAULT_RATE_THRESHOLDS
  auc_num_thresholds: int = 1000

  def __post_init__(self):
    thresholds = tuple(float(t) for t in self.rate_thresholds)
    if not thresholds:
      raise ValueError('rate_thresholds must not be empty')
    if any(not 0 < t < 1 for t in thresholds):
      raise ValueError('rate_thresholds must lie strictly between 0 and 1, '
                       f'got {thresholds}')
    if list(thresholds) != sorted(set(thresholds)):
      raise ValueError('rate_thresholds must increase, without repeats, '
                       f'got {thresholds}')
    if self.auc_num_thresholds < 2:
      raise ValueError('auc_num_thresholds must be at least 2')
    object.__setattr__(self, 'rate_thresholds', thresholds)


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
  """Everything `create_pipeline` needs to know besides where things live."""
  name: str
  model: ModelConfig
  thresholds: EvalThresholds
  evaluation: EvaluationOptions = EvaluationOptions()
  explain: explain_config.ExplainConfig = explain_config.ExplainConfig()
  # Label positive rates above which (or below one minus which) the data
  # report flags a label as imbalanced.
  imbalance_warning_rate: float = 0.65
  # Beam: worker processes of the local multi-processing direct runner.
  direct_num_workers: int = 1
  # Splits (see models.features.SPLITS) with their roles.
  train_split: str = 'train'
  eval_split: str = 'eval'
  test_split: str = 'test'


# Thresholds for the built-in sample. Its label noise caps accuracy at 97%
# (Male) and 92% (Young) (components.celeba.synth); the floors sit well above
# what a constant or untrained model reaches (at most 58% and 77% overall and
# 0% on some cohort) and below what the default run reaches.
SAMPLE_THRESHOLDS = EvalThresholds(
    accuracy_floor={features.MALE_KEY: 0.85, features.YOUNG_KEY: 0.80},
    cohort_accuracy_floor={features.MALE_KEY: 0.70, features.YOUNG_KEY: 0.60},
    max_accuracy_drop=0.03,
)

# Thresholds for CelebA, from the reference figures above: the overall floors
# sit just under the class-weighted model's, the cohort floors below its
# weakest cohorts, the Non-Young ones, where weighting lifted but did not fix
# age accuracy.
CELEBA_THRESHOLDS = EvalThresholds(
    accuracy_floor={features.MALE_KEY: 0.94, features.YOUNG_KEY: 0.84},
    cohort_accuracy_floor={features.MALE_KEY: 0.88, features.YOUNG_KEY: 0.60},
    max_accuracy_drop=0.005,
)

SAMPLE = PipelineConfig(
    name=PIPELINE_NAME,
    model=ModelConfig(),
    thresholds=SAMPLE_THRESHOLDS,
)

CELEBA = PipelineConfig(
    name=PIPELINE_NAME,
    model=ModelConfig(
        image_size=224,
        alpha=1.0,
        weights='imagenet',
        epochs=5,
        frozen_epochs=1,
        batch_size=64,
        learning_rate=1e-3,
        fine_tune_learning_rate=1e-4,
        # Pretrained BatchNorm statistics are already meaningful; keep Keras'
        # slow-moving default when fine-tuning them.
        batch_norm_momentum=0.99,
        early_stopping_patience=2,
        shuffle_buffer=16384,
        # A quarter of CelebA's 19,867 eval images per epoch: one standard
        # error of about 0.4 points on accuracy, enough to stop early on,
        # for a quarter of a full pass (minutes at 224 px on a CPU).
        max_eval_examples=5000,
    ),
    thresholds=CELEBA_THRESHOLDS,
    # 1,280-wide embeddings are about 9 KB a face in vectors.tsv (text, as
    # the projector reads it): 3,000 faces keep the explanation artifact
    # under 50 MB and the embedding pass to about a minute at 224 px on two
    # cores. The Evaluator, not this, judges the whole test split.
    explain=explain_config.ExplainConfig(max_embedding_images=3000),
)

PRESETS: Dict[str, PipelineConfig] = {'sample': SAMPLE, 'celeba': CELEBA}
SAMPLE_DATA = SampleConfig()


def with_model_overrides(config: PipelineConfig, **overrides) -> PipelineConfig:
  """`config` with the given ModelConfig fields replaced (None = keep)."""
  changes = {k: v for k, v in overrides.items() if v is not None}
  if not changes:
    return config
  return dataclasses.replace(config,
                             model=dataclasses.replace(config.model, **changes))


def model_custom_config(config: PipelineConfig) -> Dict[str, object]:
  """The Trainer's custom_config: model hyperparameters as plain JSON values."""
  return dataclasses.asdict(config.model)


# This checkout's package definition, what Beam workers would install.
SETUP_FILE = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'setup.py')


# What runs the Beam stages on this machine (see local_beam_args).
DIRECT_ENGINE = 'FnApiRunner'


def local_beam_args(direct_num_workers: int,
                    setup_file: Optional[str] = SETUP_FILE) -> List[str]:
  """Beam arguments for the DirectRunner.

  The runner is named: Beam's FnApiRunner, the engine the DirectRunner runs
  batch pipelines on. Left to itself, Beam 2.74's DirectRunner first tries
  its Prism runner, a Go binary it downloads from GitHub: offline that fails
  after seconds of building an sdist of this package, and leaves a gRPC
  worker server polling in the process for the rest of the run (it took a
  third more wall time from the Trainer of the default run); online it
  would run every Beam stage on another engine than the one measured here.

  One worker runs in-process; more use the multi-processing direct runner,
  which pays a start-up cost per worker and only wins on larger data. The
  direct runner's workers share this environment and install nothing, but
  naming the package (when its setup.py exists) keeps TFX from building an
  sdist of itself for every Beam component, seconds each.
  """
  if direct_num_workers < 0:
    raise ValueError('direct_num_workers must be >= 0 (0 = one per CPU)')
  args = [f'--runner={DIRECT_ENGINE}']
  if direct_num_workers == 1:
    args.append('--direct_num_workers=1')
  else:
    args += ['--direct_running_mode=multi_processing',
             f'--direct_num_workers={direct_num_workers}']
  if setup_file and os.path.exists(setup_file):
    args.append(f'--setup_file={setup_file}')
  return args


# Generated data up to this size trains with the sample preset; above it,
# like CelebA (the full generated set is CelebA's size and layout, and a
# rehearsal of the real run is what it is for).
SAMPLE_PRESET_MAX_IMAGES = 50_000


def choose_preset(generated: bool,
                  num_images: Optional[int]) -> Tuple[str, str]:
  """The preset for data nobody chose one for, and why, in words."""
  if not generated:
    return 'celeba', 'the data is not the generated sample'
  if num_images is not None and num_images > SAMPLE_PRESET_MAX_IMAGES:
    return 'celeba', (f'generated data of CelebA\'s scale ({num_images:,} '
                      f'images, over {SAMPLE_PRESET_MAX_IMAGES:,})')
  size = f'{num_images:,} images' if num_images is not None else 'small'
  return 'sample', f'generated data ({size})'


def for_run(preset: str = 'sample', explain: bool = True,
            direct_num_workers: Optional[int] = None,
            **model_overrides) -> PipelineConfig:
  """A preset with the runner's overrides applied (None = keep the preset)."""
  if preset not in PRESETS:
    raise ValueError(
        f'unknown preset {preset!r}; choose from {sorted(PRESETS)}')
  config = with_model_overrides(PRESETS[preset], **model_overrides)
  changes = {'explain': dataclasses.replace(config.explain, enabled=explain)}
  if direct_num_workers is not None:
    changes['direct_num_workers'] = direct_num_workers
  return dataclasses.replace(config, **changes)
