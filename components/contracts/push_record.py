"""What the Pusher recorded about a model: whether it was pushed, and where.

TFX's Pusher writes its verdict as custom properties of its PushedModel
output (`pushed`: 1 or 0, `pushed_destination`: the version folder it wrote).
The run summary, the slice report, `compare` and the explainer all read it
through `read`, from a TFX artifact or the MLMD proto it wraps.
"""

import dataclasses
from typing import Union

from ml_metadata.proto import metadata_store_pb2
from tfx import types

PUSHED = 'pushed'
PUSHED_DESTINATION = 'pushed_destination'


@dataclasses.dataclass(frozen=True)
class PushRecord:
  """What the Pusher did with the model."""
  pushed: bool
  destination: str  # '' when not pushed


def read(artifact: Union[types.Artifact, metadata_store_pb2.Artifact]
         ) -> PushRecord:
  """The Pusher's verdict from its PushedModel artifact."""
  if isinstance(artifact, types.Artifact):
    artifact = artifact.mlmd_artifact
  props = artifact.custom_properties
  pushed = PUSHED in props and bool(_number(props[PUSHED]))
  destination = (props[PUSHED_DESTINATION].string_value
                 if pushed and PUSHED_DESTINATION in props else '')
  return PushRecord(pushed=pushed, destination=destination)


def _number(value: metadata_store_pb2.Value) -> float:
  # Kubeflow's metadata store hands integers back as doubles.
  kind = value.WhichOneof('value')
  return getattr(value, kind) if kind in ('int_value', 'double_value') else 0
