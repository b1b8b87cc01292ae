"""Throughput of the Trainer's input pipeline per CPU core, at 224 and 96 px.

    python benchmarks/input_pipeline_benchmark.py
    python benchmarks/input_pipeline_benchmark.py \\
        --data_dir outputs/tfrecords/NAME

On a GPU the input path, not the network, bounds training: MobileNetV2 at
224 px trains at about 6,200 img/s on one H100. This measures what one CPU
core feeds: models.input_pipeline.make_dataset exactly as run_fn uses it
(read GZIP TFRecords, shuffle, batch, parse, the Transform graph's decode /
resize / scale), over the converted sample's train split, with the Transform
graph built by tf.Transform itself (as in models/test_utils). The Trainer
augments inside the model, on the accelerator; `--augment on` adds the same
augmentation as a tf.data step to show what it would cost on the CPU.

Each configuration pins tf.data to N threads (a private thread pool of N, N
parallel calls, one thread per op), with and without that CPU augmentation,
and reports two figures:

* img/s: wall-clock throughput with N threads;
* img/s per core: images per CPU-second the process used while timing. This
  one is the answer to "how many cores per GPU", and unlike img/s it barely
  depends on what else runs on the machine (the load average is printed).

The projection divides the target rate by the per-core rate at 224 px and
assumes linear scaling across cores, which tf.data's parallel map gives as
long as the cores are real (check the 1-vs-2-thread scaling printed here).
"""

import argparse
import glob
import os
import resource
import sys
import tempfile
import time
from typing import Dict, List, Optional

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
# The project's packages set TF_USE_LEGACY_KERAS (models/__init__.py),
# which TensorFlow reads when it is imported.
import models  # pylint: disable=unused-import,g-bad-import-order
import tensorflow as tf  # pylint: disable=g-bad-import-order

from components.celeba import local_data
from models import augmentation
from models import input_pipeline
from tests import example_data
from components.contracts import local_layout
from pipeline import configs

GPU_TARGET_IMG_PER_S = 6200  # MobileNetV2, 224 px, one H100


def _cpu_seconds() -> float:
  usage = resource.getrusage(resource.RUSAGE_SELF)
  return usage.ru_utime + usage.ru_stime


def train_files(data_dir: Optional[str], work_dir: str,
                num_images: int) -> List[str]:
  """The train split's TFRecords: given, or of a sample generated here."""
  if not data_dir:
    sample = configs.SampleConfig(num_images=num_images)
    paths = local_layout.local_paths(work_dir)
    raw = paths.sample_dir(sample.num_images, sample.seed)
    local_data.ensure_sample(raw, sample.num_images, sample.seed)
    data_dir = local_data.ensure_converted(raw, paths.converted_dir(raw))
  files = sorted(glob.glob(os.path.join(data_dir, 'train', '*.tfrecord.gz')))
  if not files:
    raise FileNotFoundError(f'no train/*.tfrecord.gz under {data_dir}')
  return files


def measure(files: List[str], tft_layer, image_size: int, threads: int,
            batch_size: int, warmup_batches: int, batches: int,
            augment: bool, seed: Optional[int]) -> Dict[str, float]:
  """Images/s and images per CPU-second of make_dataset with `threads`."""
  dataset = input_pipeline.make_dataset(
      files, tft_layer, batch_size, training=True, shuffle_buffer=4096,
      seed=seed, num_parallel_calls=threads, repeat=True)
  if augment:
    # What the augmentation would cost on the CPU if it ran in the input
    # pipeline; the Trainer runs it inside the model (models/augmentation.py).
    aug = augmentation.augmenter(seed)
    dataset = dataset.map(lambda x, y: (aug(x, training=True), y),
                          num_parallel_calls=threads)
  options = tf.data.Options()
  options.threading.private_threadpool_size = threads
  options.threading.max_intra_op_parallelism = 1
  options.autotune.cpu_budget = threads
  dataset = dataset.with_options(options)
  iterator = iter(dataset)
  for _ in range(warmup_batches):
    images, _ = next(iterator)
  assert images.shape[1:] == (image_size, image_size, 3), images.shape
  load = os.getloadavg()[0]
  started, cpu_before = time.monotonic(), _cpu_seconds()
  for _ in range(batches):
    next(iterator)
  wall = time.monotonic() - started
  cpu = _cpu_seconds() - cpu_before
  n = batches * batch_size
  return {'image_size': image_size, 'augment': augment, 'threads': threads,
          'images': n,
          'seconds': wall, 'img_per_s': n / wall, 'cpu_seconds': cpu,
          'img_per_core_s': n / cpu, 'cores_busy': cpu / wall, 'load': load}


def main() -> int:
  parser = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--data_dir',
                      help='converted TFRecords (default: generate and '
                           'convert a sample under --work_dir)')
  parser.add_argument('--work_dir', default=os.path.join(
      local_layout.DEFAULT_OUTPUT_ROOT, 'benchmarks', 'input_pipeline'))
  parser.add_argument('--sample_images', type=int, default=3000)
  parser.add_argument('--sizes', type=int, nargs='+', default=[224, 96])
  parser.add_argument('--threads', type=int, nargs='+', default=[1, 2])
  parser.add_argument('--batch_size', type=int,
                      default=configs.CELEBA.model.batch_size)
  parser.add_argument('--warmup_batches', type=int, default=5)
  parser.add_argument('--batches', type=int, default=40)
  parser.add_argument('--augment', choices=('on', 'off', 'both'),
                      default='both',
                      help="'on' is what the Trainer does; 'off' shows what "
                           'decoding alone costs (default %(default)s)')
  parser.add_argument('--seed', type=int, default=configs.CELEBA.model.seed,
                      help='as the Trainer (keeps element order fixed); '
                           '-1 for none (default %(default)s)')
  args = parser.parse_args()
  seed = None if args.seed is not None and args.seed < 0 else args.seed

  files = train_files(args.data_dir, args.work_dir, args.sample_images)
  augments = {'on': [True], 'off': [False], 'both': [True, False]}[args.augment]
  print(f'{len(files)} train files, batch {args.batch_size}, seed {seed}, '
        f'{os.cpu_count()} CPUs on this machine')
  results = []
  for size in args.sizes:
    transform_dir = tempfile.mkdtemp(prefix=f'tft-{size}-')
    tft_output = example_data.build_transform_output(
        example_data.raw_examples(8, seed=0), size, transform_dir)
    layer = tft_output.transform_features_layer()
    for augment in augments:
      for threads in args.threads:
        result = measure(files, layer, size, threads, args.batch_size,
                         args.warmup_batches, args.batches, augment, seed)
        results.append(result)
        print(f"{size} px, augment {augment}, {threads} thread(s): "
              f"{result['img_per_s']:.0f} img/s, "
              f"{result['img_per_core_s']:.0f} img per CPU-second "
              f"({result['cores_busy']:.2f} cores busy, load "
              f"{result['load']:.2f})", flush=True)

  print('\n| px | augment | threads | img/s | img per CPU-second | '
        'cores busy | load (1 min) | cores for 6,200 img/s |')
  print('|---:|---|---:|---:|---:|---:|---:|---:|')
  for r in results:
    print(f"| {r['image_size']} | {'on' if r['augment'] else 'off'} | "
          f"{r['threads']} | {r['img_per_s']:.0f} | "
          f"{r['img_per_core_s']:.0f} | {r['cores_busy']:.2f} | "
          f"{r['load']:.2f} | "
          f"{GPU_TARGET_IMG_PER_S / r['img_per_core_s']:.1f} |")
  print('\n"cores busy" below the thread count means the process waited for '
        'CPU: other work was running, and img/s understates the pipeline.')
  return 0


if __name__ == '__main__':
  sys.exit(main())
