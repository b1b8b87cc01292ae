"""What the Pusher recorded about a model: whether it was pushed, and where.

TFX's Pusher writes its verdict as custom properties of its PushedModel
output (`pushed`: 1 or 0, `pushed_destination`: the version folder it wrote).
The run summary, the slice report, `compare` and the explainer all read it
through `read`, from a TFX artifact or the MLMD proto it wraps. On Kubeflow
Pipelines the values come back changed: from KFP's metadata store integers
are doubles, and in a step's ExecutorInput every property is a JSON value
(an MLMD struct_value), so `read` accepts each of those forms.
"""

import dataclasses
from typing import Union

from google.protobuf import json_format
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
  destination = (_plain(props[PUSHED_DESTINATION])
                 if pushed and PUSHED_DESTINATION in props else '')
  return PushRecord(pushed=pushed,
                    destination=destination
                    if isinstance(destination, str) else '')


def _plain(value: metadata_store_pb2.Value):
  """The Python value of an MLMD property, a JSON (struct) value included."""
  kind = value.WhichOneof('value')
  if kind == 'struct_value':
    # TFX stores a single JSON value as {'__value__': value}.
    decoded = json_format.MessageToDict(value.struct_value)
    return decoded.get('__value__', decoded)
  return getattr(value, kind) if kind else None


def _number(value: metadata_store_pb2.Value) -> float:
  # Kubeflow's metadata store hands integers back as doubles, and a step's
  # ExecutorInput as JSON numbers.
  plain = _plain(value)
  return (plain if isinstance(plain, (int, float)) and
          not isinstance(plain, bool) else 0)
