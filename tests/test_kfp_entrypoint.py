"""Tests for pipeline.kfp_entrypoint: KFP 2.x's empty input types restored."""

import json

from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from pipeline import kfp_entrypoint

EXAMPLES = {'instanceSchema': 'title: tfx.Examples\ntype: object\n'}
SCHEMA = {'schemaTitle': 'tfx.Schema'}
INPUTS_SPEC = {'artifacts': {'examples': {'artifactType': EXAMPLES},
                             'schema': {'artifactType': SCHEMA}},
               'parameters': {'x': {'parameterType': 'STRING'}}}


def _executor_input(types):
  return {'inputs': {
      'parameterValues': {'x': 'y'},
      'artifacts': {name: {'artifacts': [dict(
          {'name': '7', 'uri': f'/root/{name}', 'metadata': {'span': 0.0}},
          **({'type': t} if t is not None else {}))]}
                    for name, t in types.items()}},
          'outputs': {'outputFile': '/tmp/kfp_outputs/output_metadata.json'}}


def _argv(executor_input, inline=False):
  invocation = json.dumps(executor_input)
  spec = json.dumps(INPUTS_SPEC)
  if inline:
    return ['--executor_class_path', 'a.B',
            f'{kfp_entrypoint.INVOCATION_FLAG}={invocation}',
            f'{kfp_entrypoint.INPUTS_SPEC_FLAG}={spec}', '--runner=Direct']
  return ['--executor_class_path', 'a.B', kfp_entrypoint.INVOCATION_FLAG,
          invocation, kfp_entrypoint.INPUTS_SPEC_FLAG, spec,
          '--direct_num_workers=1']


def _parsed_input(argv):
  value = next(a.split('=', 1)[1] if a.startswith(
      kfp_entrypoint.INVOCATION_FLAG + '=') else argv[i + 1]
               for i, a in enumerate(argv)
               if a.startswith(kfp_entrypoint.INVOCATION_FLAG))
  return json_format.Parse(value, pipeline_spec_pb2.ExecutorInput())


def test_empty_types_from_kfp_oss_get_the_declared_ones():
  for inline in (False, True):
    argv = _argv(_executor_input({'examples': {'instanceSchema': ''},
                                  'schema': None}), inline=inline)
    fixed = kfp_entrypoint.with_input_types(argv)
    parsed = _parsed_input(fixed)
    examples = parsed.inputs.artifacts['examples'].artifacts[0]
    assert examples.type.instance_schema == EXAMPLES['instanceSchema']
    assert parsed.inputs.artifacts['schema'].artifacts[0].type.schema_title == (
        'tfx.Schema')
    # Everything else is as KFP sent it.
    assert examples.name == '7' and examples.uri == '/root/examples'
    assert examples.metadata['span'] == 0.0
    assert parsed.inputs.parameter_values['x'].string_value == 'y'
    assert fixed[-1] == argv[-1]
    assert len(fixed) == len(argv)


def test_typed_inputs_as_vertex_sends_them_are_left_alone():
  argv = _argv(_executor_input({'examples': EXAMPLES, 'schema': SCHEMA}))
  assert kfp_entrypoint.with_input_types(argv) == argv


def test_without_an_inputs_spec_nothing_changes():
  argv = ['--executor_class_path', 'a.B', kfp_entrypoint.INVOCATION_FLAG,
          json.dumps(_executor_input({'examples': {'instanceSchema': ''}}))]
  assert kfp_entrypoint.with_input_types(argv) == argv


def test_has_type():
  t = pipeline_spec_pb2.ArtifactTypeSchema
  assert not kfp_entrypoint.has_type(t())
  assert not kfp_entrypoint.has_type(t(instance_schema=''))
  assert not kfp_entrypoint.has_type(t(instance_schema='just text'))
  assert kfp_entrypoint.has_type(t(instance_schema='title: tfx.Model\n'))
  assert kfp_entrypoint.has_type(t(schema_title='tfx.Model'))
