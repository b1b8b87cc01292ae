"""Times the explanation stage (components/explain) for N images.

  # The sample preset's model (96 px, alpha 0.35), e.g. a pushed one:
  python benchmarks/explain_benchmark.py --model outputs/serving_model \\
      --num_images 300 20000

  # CelebA's preset (224 px, alpha 1.0; an untrained network of that shape:
  # the cost does not depend on the weights):
  python benchmarks/explain_benchmark.py --preset celeba --num_images 2000

For each N it generates (once, cached under --work_dir) N CelebA-like images
with components.celeba.synth, writes them as one GZIP TFRecord of the
pipeline's tf.Examples, and runs the whole stage the ModelExplainer runs
(run.explain_examples) with the preset's ExplainConfig, every image embedded
(max_embedding_images = N). It prints the stage's own per-step timings (read,
embed, projector files, PCA, t-SNE on at most tsne_max_images points, maps,
saliency per cohort and averaged, figures) and then the cost of saliency per
image (Integrated Gradients of both outputs) on its own.

Without --model, a randomly initialized network of the preset's size is
exported with models.signatures.export (through a real Transform graph), so
the benchmark needs no pipeline run. The load average before each step is
printed: the machines are shared, and wall times move with it.
"""

import argparse
import dataclasses
import os
import shutil
import sys
import time
from pathlib import Path
from typing import List

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# The project's packages set TF_USE_LEGACY_KERAS (models/__init__.py),
# which TensorFlow reads when it is imported.
import models  # pylint: disable=unused-import,g-bad-import-order
import tensorflow as tf  # pylint: disable=g-bad-import-order

from components.celeba import convert as conv
from components.celeba import synth
from components.explain import run
from components.explain import saliency
from components.explain import served_model
from pipeline import configs


def _untrained_model(work: Path, preset: configs.PipelineConfig) -> str:
  """Exports a randomly initialized network of the preset's shape (cached)."""
  from models import network  # pylint: disable=g-import-not-at-top
  from models import signatures
  from tests import example_data
  size, alpha = preset.model.image_size, preset.model.alpha
  export_dir = work / f'untrained-{size}px-alpha{alpha:g}'
  if not (export_dir / 'saved_model.pb').exists():
    output = example_data.build_transform_output(
        example_data.raw_examples(4, seed=0), size, str(work / f'tft-{size}'))
    model = network.build_network(size, alpha)
    signatures.export(model, output.transform_features_layer(), size,
                      str(export_dir))
  return str(export_dir)


def _examples(work: Path, num_images: int, seed: int) -> str:
  """N generated images as one GZIP TFRecord of tf.Examples (cached)."""
  record = work / f'examples-{num_images}-seed{seed}.tfrecord.gz'
  if record.exists():
    return str(record)
  celeba = work / f'celeba-{num_images}-seed{seed}'
  started = time.monotonic()
  synth.synthesize(celeba, num_images, seed, overwrite=True)
  plan = synth.plan(num_images, seed)
  tmp = str(record) + '.tmp'
  with tf.io.TFRecordWriter(tmp, options='GZIP') as writer:
    for image_id, values in zip(plan.image_ids, plan.attributes):
      jpeg = (celeba / synth.IMAGES_DIR / image_id).read_bytes()
      writer.write(conv.make_example(image_id, jpeg, [int(v) for v in values]))
  os.replace(tmp, record)
  print(
      f'generated {num_images:,} images in {time.monotonic() - started:.0f} s')
  return str(record)


def _load() -> str:
  return f'load average {os.getloadavg()[0]:.1f}'


def time_stage(model_dir: str, record: str, num_images: int,
               config: configs.ExplainConfig, out: Path) -> None:
  config = dataclasses.replace(config, max_embedding_images=num_images)
  shutil.rmtree(out, ignore_errors=True)
  print(f'\n== {num_images:,} images, whole stage ({_load()}) ==')
  started = time.monotonic()
  document = run.explain_examples(model_dir, [record], str(out), config)
  seconds = time.monotonic() - started
  for step, value in document['timings'].items():
    print(f'  {step:<18} {value:8.1f} s')
  projector_mb = sum(p.stat().st_size for p in (out / 'projector').iterdir())
  print(f'  {"total":<18} {seconds:8.1f} s   (t-SNE on '
        f'{document["maps"].get("tsne", {}).get("points", 0):,} points; '
        f'projector files {projector_mb / 1e6:.0f} MB; '
        f'{document["num_embedded"] / document["timings"]["embed"]:.0f} '
        'images/s embedded)')


def time_saliency(model_dir: str, record: str, images: int, steps: int) -> None:
  from components.explain import examples  # pylint: disable=g-import-not-at-top
  model = served_model.ServedModel(model_dir)
  faces, _ = examples.read_faces([record], images + 1, seed=0)
  pixels = model.pixels(faces.jpegs)
  saliency.explain_pixels(model.predict_pixels, pixels[0], model.outputs,
                          steps)  # traces the gradient function
  print(f'\n== saliency, {steps} steps, {len(model.outputs)} outputs, '
        f'{model.image_size} px ({_load()}) ==')
  started = time.monotonic()
  for image in pixels[1:]:
    saliency.explain_pixels(model.predict_pixels, image, model.outputs, steps)
  per_image = (time.monotonic() - started) / (len(pixels) - 1)
  print(f'  {per_image:.2f} s per image (both outputs), '
        f'{per_image / len(model.outputs):.2f} s per map')


def main(argv: List[str] = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--model', help='SavedModel / push folder; default: an '
                      'untrained network of the preset\'s size')
  parser.add_argument('--preset', choices=sorted(configs.PRESETS),
                      default='sample')
  parser.add_argument('--num_images', type=int, nargs='+', default=[300])
  parser.add_argument('--saliency_images', type=int, default=4,
                      help='images timed for saliency on their own (0: skip)')
  parser.add_argument('--steps', type=int, help='IG steps (default: preset)')
  parser.add_argument('--latent_only', action='store_true',
                      help='skip the in-stage saliency (its cost does not '
                           'grow with N; --saliency_images times it)')
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--work_dir', default='/tmp/explain-benchmark')
  args = parser.parse_args(argv)

  preset = configs.PRESETS[args.preset]
  config = preset.explain
  if args.steps:
    config = dataclasses.replace(config, integrated_gradients_steps=args.steps)
  if args.latent_only:
    config = dataclasses.replace(config, saliency_images_per_cohort=0,
                                 saliency_average_images_per_cohort=0)
  work = Path(args.work_dir)
  work.mkdir(parents=True, exist_ok=True)
  model_dir = args.model or _untrained_model(work, preset)
  model_dir = served_model.resolve_model_dir(model_dir)
  print(f'model: {model_dir}; {os.cpu_count()} CPUs; config: {config}')
  for n in args.num_images:
    record = _examples(work, n, args.seed)
    time_stage(model_dir, record, n, config, work / f'out-{n}')
  if args.saliency_images:
    time_saliency(model_dir, _examples(work, min(args.num_images), args.seed),
                  args.saliency_images, config.integrated_gradients_steps)
  return 0


if __name__ == '__main__':
  sys.exit(main())
