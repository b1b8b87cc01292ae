"""Where a local run keeps its data and outputs, under one output root.

The local runner writes this layout; `python -m components.report compare`,
the benchmarks and the end-to-end tests read it. Kubeflow runs keep their
artifacts under the pipeline root they are given instead.

    OUTPUT_ROOT/sample/celeba-<N>-seed<S>/   the generated sample (raw layout)
    OUTPUT_ROOT/tfrecords/<folder name>/     converted TFRecords
    OUTPUT_ROOT/pipeline_root/               every artifact, metadata.sqlite
    OUTPUT_ROOT/serving_model/<version>/     what the Pusher pushed
"""

import dataclasses
import os
from typing import Optional

# The repository's outputs/ folder (ignored by git).
DEFAULT_OUTPUT_ROOT = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
        __file__)))), 'outputs')
METADATA_FILE = 'metadata.sqlite'


@dataclasses.dataclass(frozen=True)
class LocalPaths:
  """Where a local run reads and writes; everything defaults under one root."""
  output_root: str
  pipeline_root: str
  serving_dir: str

  @property
  def metadata_path(self) -> str:
    return os.path.join(self.pipeline_root, METADATA_FILE)

  def sample_dir(self, num_images: int, seed: int) -> str:
    """Folder of the generated sample in CelebA's official layout."""
    return os.path.join(self.output_root, 'sample',
                        f'celeba-{num_images}-seed{seed}')

  def converted_dir(self, raw_dir: str) -> str:
    """Folder of the TFRecords converted from a raw CelebA folder.

    Converted data lives beside the pipeline outputs, never inside the
    user's data folder.
    """
    name = os.path.basename(os.path.normpath(os.path.abspath(raw_dir)))
    return os.path.join(self.output_root, 'tfrecords', name)


def local_paths(output_root: Optional[str] = None,
                pipeline_root: Optional[str] = None,
                serving_dir: Optional[str] = None) -> LocalPaths:
  """The layout under `output_root` (default: the repository's outputs/)."""
  root = os.path.abspath(output_root or DEFAULT_OUTPUT_ROOT)
  return LocalPaths(
      output_root=root,
      pipeline_root=os.path.abspath(
          pipeline_root or os.path.join(root, 'pipeline_root')),
      serving_dir=os.path.abspath(
          serving_dir or os.path.join(root, 'serving_model')))
