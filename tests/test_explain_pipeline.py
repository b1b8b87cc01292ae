"""The ModelExplainer node in the DAG: wiring, knobs, the off switch."""

import dataclasses

from components import artifacts
from components.explain import component as explain_component
from components.explain import config as explain_config
from pipeline import configs
from pipeline import pipeline
from components.contracts import node_ids


def _build(config: configs.PipelineConfig, tmp_path):
  return pipeline.create_pipeline(
      config, data_root=str(tmp_path / 'data'),
      pipeline_root=str(tmp_path / 'root'),
      serving_dir=str(tmp_path / 'serving'))


def _nodes(dag):
  return {node.id: node for node in dag.components}


def test_explainer_follows_trainer_example_gen_and_pusher(tmp_path):
  nodes = _nodes(_build(configs.for_run('sample'), tmp_path))
  node = nodes[node_ids.EXPLAINER]
  assert node_ids.EXPLAINER == 'ModelExplainer'
  producers = {key: (channel.producer_component_id, channel.output_key)
               for key, channel in node.inputs.items()}
  assert producers == {
      'model': (node_ids.TRAINER, 'model'),
      'examples': (node_ids.EXAMPLE_GEN, 'examples'),
      'pushed_model': (node_ids.PUSHER, 'pushed_model'),
  }
  assert node.outputs['explanation'].type is artifacts.ModelExplanation
  assert node.exec_properties['split'] == configs.SAMPLE.test_split
  assert node.exec_properties['code_digest'] == pipeline.code_digest(
      explain_component.PACKAGE_DIR, pipeline.CONTRACTS_DIR,
      pipeline.MODELS_DIR)


def test_every_explain_knob_reaches_the_component(tmp_path):
  explain = explain_config.ExplainConfig(max_embedding_images=123, seed=9,
                                         integrated_gradients_steps=7)
  config = dataclasses.replace(configs.SAMPLE, explain=explain)
  node = _nodes(_build(config, tmp_path))[node_ids.EXPLAINER]
  received = explain_config.ExplainConfig.from_json(
      node.exec_properties['config'])
  assert received == explain
  declared = set(explain_component.ModelExplainer.SPEC_CLASS.PARAMETERS)
  assert declared == {'config', 'split', 'code_digest'}


def test_no_explain_leaves_the_node_out(tmp_path):
  config = configs.for_run('sample', explain=False)
  assert not config.explain.enabled
  assert node_ids.EXPLAINER not in _nodes(_build(config, tmp_path))
