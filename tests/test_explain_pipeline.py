"""The ModelExplainer node in the DAG: wiring, knobs, the off switch."""

import os

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

import dataclasses  # pylint: disable=g-import-not-at-top

from components import artifacts
from components.explain import component as explain_component
from pipeline import configs
from pipeline import pipeline


def _build(config: configs.PipelineConfig, tmp_path):
  return pipeline.create_pipeline(
      config, data_root=str(tmp_path / 'data'),
      pipeline_root=str(tmp_path / 'root'),
      serving_dir=str(tmp_path / 'serving'))


def _nodes(dag):
  return {node.id: node for node in dag.components}


def test_explainer_follows_trainer_example_gen_and_pusher(tmp_path):
  nodes = _nodes(_build(configs.for_run('sample'), tmp_path))
  node = nodes[pipeline.EXPLAINER]
  assert pipeline.EXPLAINER == 'ModelExplainer'
  producers = {key: (channel.producer_component_id, channel.output_key)
               for key, channel in node.inputs.items()}
  assert producers == {
      'model': (pipeline.TRAINER, 'model'),
      'examples': (pipeline.EXAMPLE_GEN, 'examples'),
      'pushed_model': (pipeline.PUSHER, 'pushed_model'),
  }
  assert node.outputs['explanation'].type is artifacts.ModelExplanation
  assert node.exec_properties['split'] == configs.SAMPLE.test_split
  assert node.exec_properties['code_digest'] == pipeline.code_digest(
      explain_component.PACKAGE_DIR)


def test_every_explain_knob_reaches_the_component(tmp_path):
  explain = configs.ExplainConfig(max_embedding_images=123, seed=9,
                                  integrated_gradients_steps=7)
  config = dataclasses.replace(configs.SAMPLE, explain=explain)
  node = _nodes(_build(config, tmp_path))[pipeline.EXPLAINER]
  knobs = explain_component.parameters(explain)
  for name, value in knobs.items():
    assert node.exec_properties[name] == value, name
  declared = set(explain_component.ModelExplainer.SPEC_CLASS.PARAMETERS)
  assert declared == set(knobs) | {'split', 'code_digest'}


def test_no_explain_leaves_the_node_out(tmp_path):
  config = configs.for_run('sample', explain=False)
  assert not config.explain.enabled
  assert pipeline.EXPLAINER not in _nodes(_build(config, tmp_path))
