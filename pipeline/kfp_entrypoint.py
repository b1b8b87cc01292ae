"""The container entrypoint of the compiled package: TFX's, with input types.

Every step of the package runs `python -m pipeline.kfp_entrypoint ARGS`,
where ARGS are exactly what TFX's KubeflowV2DagRunner compiled for its own
entrypoint (kubeflow_v2_run_executor): the executor class, the ExecutorInput
(`{{$}}`) and the component's input spec.

Why not TFX's entrypoint directly: the open-source KFP 2.x driver rebuilds a
task's input artifacts from its metadata store and gives each one an empty
type, `{"instanceSchema": ""}` (its store keeps no schema), while TFX 1.16
imports each artifact's class from the type's schema title and fails with
`AttributeError: 'NoneType' object has no attribute 'get'` in
kubeflow_v2_entrypoint_utils._retrieve_class_path (tensorflow/tfx#7768).
The declared type of every input is in the input spec TFX compiles into the
args (`--json_serialized_inputs_spec_args`), so this module copies it into
each input artifact that arrived without one, then hands over to TFX's
entrypoint in this same process. An input that arrives typed (Vertex AI
fills the types in) is left as it is, so on Vertex this is a pass-through.

It also defers `tfx/components/__init__.py` (pipeline/deferred_init.py), which
TFX's entrypoint would otherwise run in every step for one subclass check.
"""

import runpy
import sys
from typing import List, Optional, Sequence

import yaml
from kfp.pipeline_spec import pipeline_spec_pb2

from google.protobuf import json_format

from pipeline import deferred_init

TFX_ENTRYPOINT = (
    'tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor')
INVOCATION_FLAG = '--json_serialized_invocation_args'
INPUTS_SPEC_FLAG = '--json_serialized_inputs_spec_args'


def _value_index(argv: Sequence[str], flag: str) -> Optional[int]:
  """Index of the value of `flag` in argv ('--flag VALUE' form), or None."""
  for i, arg in enumerate(argv[:-1]):
    if arg == flag:
      return i + 1
  return None


def _flag_value(argv: Sequence[str], flag: str) -> Optional[str]:
  index = _value_index(argv, flag)
  if index is not None:
    return argv[index]
  prefix = flag + '='
  for arg in argv:
    if arg.startswith(prefix):
      return arg[len(prefix):]
  return None


def _replace_flag_value(argv: List[str], flag: str, value: str) -> List[str]:
  index = _value_index(argv, flag)
  if index is not None:
    return argv[:index] + [value] + argv[index + 1:]
  prefix = flag + '='
  return [prefix + value if arg.startswith(prefix) else arg for arg in argv]


def has_type(type_schema: pipeline_spec_pb2.ArtifactTypeSchema) -> bool:
  """Whether TFX's entrypoint can find an artifact class from this type."""
  kind = type_schema.WhichOneof('kind')
  if kind == 'schema_title':
    return bool(type_schema.schema_title)
  if kind == 'instance_schema':
    return isinstance(yaml.safe_load(type_schema.instance_schema), dict)
  return False


def restore_input_types(
    executor_input: pipeline_spec_pb2.ExecutorInput,
    inputs_spec: pipeline_spec_pb2.ComponentInputsSpec) -> List[str]:
  """Gives every untyped input artifact its declared type, in place.

  Returns:
    The names of the inputs whose type was restored.
  """
  restored = []
  for name, artifact_list in executor_input.inputs.artifacts.items():
    declared = inputs_spec.artifacts.get(name)
    if declared is None or not has_type(declared.artifact_type):
      continue
    for artifact in artifact_list.artifacts:
      if not has_type(artifact.type):
        artifact.type.CopyFrom(declared.artifact_type)
        if name not in restored:
          restored.append(name)
  return restored


def with_input_types(argv: Sequence[str]) -> List[str]:
  """`argv` with the ExecutorInput's missing input types filled in."""
  argv = list(argv)
  invocation = _flag_value(argv, INVOCATION_FLAG)
  spec_text = _flag_value(argv, INPUTS_SPEC_FLAG)
  if invocation is None or not spec_text:
    return argv
  executor_input = pipeline_spec_pb2.ExecutorInput()
  json_format.Parse(invocation, executor_input, ignore_unknown_fields=True)
  inputs_spec = pipeline_spec_pb2.ComponentInputsSpec()
  json_format.Parse(spec_text, inputs_spec, ignore_unknown_fields=True)
  restored = restore_input_types(executor_input, inputs_spec)
  if not restored:
    return argv
  print(f'kfp_entrypoint: restored the declared type of input(s) '
        f'{", ".join(sorted(restored))}', file=sys.stderr)
  return _replace_flag_value(argv, INVOCATION_FLAG,
                             json_format.MessageToJson(executor_input))


def main(argv: Optional[Sequence[str]] = None) -> None:
  """Restores the input types, then runs TFX's entrypoint as __main__."""
  args = with_input_types(sys.argv[1:] if argv is None else argv)
  sys.argv = [TFX_ENTRYPOINT] + args
  deferred_init.defer('tfx.components')
  runpy.run_module(TFX_ENTRYPOINT, run_name='__main__', alter_sys=True)


if __name__ == '__main__':
  main()
