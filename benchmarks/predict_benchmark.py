"""Throughput of `python -m components.predict` at each preset's input size.

  python benchmarks/predict_benchmark.py                      # both presets
  python benchmarks/predict_benchmark.py --presets celeba --num_images 512

For each preset a randomly initialised MobileNetV2 of its size (sample:
96 px, alpha 0.35; celeba: 224 px, alpha 1.0) is exported with
models.signatures.export through a real Transform graph (cached under
--work_dir): the cost of a forward pass does not depend on the weights, so
no pipeline run is needed. It then predicts N generated CelebA-like files
(178 x 218 JPEGs from components.celeba.synth) the way the command does,
reading each file from disk, in batches of --batch_size, and prints images
per second. The first batch is timed apart: it includes the signature's
one-off graph set-up. The load average and the process's CPU time are
printed too: the machines are shared, and wall-time figures move with it.
"""

import argparse
import os
import sys
import time
from pathlib import Path
from typing import List, Optional

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.celeba import synth  # pylint: disable=g-import-not-at-top
from components.predict import inputs
from components.predict import predictor as predictor_lib
from pipeline import configs


def _untrained_model(work: Path, preset: configs.PipelineConfig) -> str:
  """Exports a randomly initialised network of the preset's shape (cached)."""
  # pylint: disable=g-import-not-at-top
  from models import network
  from models import signatures
  from tests import example_data
  # pylint: enable=g-import-not-at-top
  size, alpha = preset.model.image_size, preset.model.alpha
  export_dir = work / f'untrained-{size}px-alpha{alpha:g}'
  if not (export_dir / 'saved_model.pb').exists():
    started = time.monotonic()
    output = example_data.build_transform_output(
        example_data.raw_examples(4, seed=0), size, str(work / f'tft-{size}'))
    model = network.build_network(size, alpha)
    signatures.export(model, output.transform_features_layer(), size,
                      str(export_dir))
    print(f'exported an untrained {size} px alpha {alpha:g} network in '
          f'{time.monotonic() - started:.0f} s')
  return str(export_dir)


def _photos(work: Path, num_images: int) -> List[inputs.Input]:
  folder = work / f'celeba-{num_images}'
  if not (folder / synth.INFO_FILE).exists():
    synth.synthesize(folder, num_images, seed=0, overwrite=True)
  return inputs.expand([str(folder / synth.IMAGES_DIR)])


def _load() -> str:
  return f'load average {os.getloadavg()[0]:.1f}'


def time_preset(name: str, work: Path, files: List[inputs.Input],
                batch_size: int) -> None:
  preset = configs.PRESETS[name]
  model_dir = _untrained_model(work, preset)
  started = time.monotonic()
  predictor = predictor_lib.Predictor(model_dir)
  loaded = time.monotonic() - started
  started = time.monotonic()
  list(predictor_lib.predict_files(predictor, files[:batch_size], batch_size))
  first = time.monotonic() - started
  rest = files[batch_size:]
  print(f'\n== preset {name}: {preset.model.image_size} px, alpha '
        f'{preset.model.alpha:g}, untrained (random weights), batch '
        f'{batch_size} ({_load()}) ==')
  started, cpu_started = time.monotonic(), time.process_time()
  predictions = list(predictor_lib.predict_files(predictor, rest, batch_size))
  seconds = time.monotonic() - started
  cpu = time.process_time() - cpu_started
  assert not any(p.error for p in predictions)
  print(f'  model load        {loaded:6.1f} s')
  print(f'  first batch       {first:6.1f} s ({batch_size} images, with '
        'graph set-up)')
  print(f'  {len(rest):,} images   {seconds:6.1f} s   '
        f'{len(rest) / seconds:,.0f} images/s')
  # On a shared machine wall time depends on the neighbours; CPU time much less.
  print(f'  CPU time          {cpu:6.1f} s   {len(rest) / cpu:,.0f} images per '
        f'CPU-second ({cpu / seconds:.1f} of {os.cpu_count()} cores busy)')


def main(argv: Optional[List[str]] = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--presets', nargs='+', choices=sorted(configs.PRESETS),
                      default=['sample', 'celeba'])
  parser.add_argument('--num_images', type=int, default=544,
                      help='files to predict; the first batch is timed apart')
  parser.add_argument('--batch_size', type=int,
                      default=predictor_lib.DEFAULT_BATCH_SIZE)
  parser.add_argument('--work_dir', default='/tmp/predict-benchmark')
  args = parser.parse_args(argv)
  work = Path(args.work_dir)
  work.mkdir(parents=True, exist_ok=True)
  files = _photos(work, args.num_images)
  print(f'{len(files):,} generated 178 x 218 JPEGs; {os.cpu_count()} CPUs; '
        'models: randomly initialised MobileNetV2 exported with '
        'models.signatures.export')
  for name in args.presets:
    time_preset(name, work, files, args.batch_size)
  return 0


if __name__ == '__main__':
  sys.exit(main())
