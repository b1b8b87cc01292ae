"""The DAG: CelebA TFRecords in, a model judged per cohort and pushed out.

    ImportExampleGen (train / eval / test, CelebA's own partitions)
      -> StatisticsGen (sliced by Male x Young) -> DataReport (label balance)
      -> SchemaGen (inferred, kept for comparison)
      -> ImportSchemaGen (the curated schema/schema.pbtxt)
      -> ExampleValidator -> DataValidationGate (anomalies stop the run here)
      -> Transform (decode/resize/scale graph, label-count analyzers)
      -> Trainer (MobileNetV2, weighted BCE, early stop on eval)
      -> ServedBaseline (the model being served, other than this candidate)
      -> Evaluator (TFMA on the test split, per cohort, thresholds, and the
         change against the served model when one is served)
      -> Pusher (only a blessed model)
      -> ModelExplainer (latent space and saliency of the candidate, pushed
         or not; config.explain.enabled, `--no_explain` turns it off)
      -> SliceReport (per-cohort report) and ModelCardGenerator (the model
         card, Model Card Toolkit schema v0.0.2)

`create_pipeline` is a pure function of its arguments: the local and the
Kubeflow runners build the same DAG and differ only in where it runs.

The Transform and Trainer code is referenced by import path, not uploaded as a
module file: the package is installed wherever the pipeline runs (locally, in
the pipeline image, on Beam workers via --setup_file). Because TFX then cannot
fingerprint the code, a digest of the `models` package goes into both
components' custom_config, so editing the model invalidates the cache exactly
when it should.
"""

import hashlib
import os
from typing import List, Optional, Sequence

import tensorflow_data_validation as tfdv
# TFX's classes from their modules, not through `tfx.v1`: that package also
# imports every Google Cloud extension (4 s here), in every process that
# builds or runs a step.
from tfx import components as tfx_components
from tfx.components.schema_gen.import_schema_gen import (
    component as import_schema_gen)
from tfx.dsl.components.base import base_node
from tfx.orchestration import pipeline as tfx_pipeline
from tfx.proto import example_gen_pb2
from tfx.proto import pusher_pb2
from tfx.proto import trainer_pb2
from tfx.proto import transform_pb2
from tfx_bsl.public.proto import slicing_spec_pb2

import schema as schema_package
from components.baseline import component as served_baseline
from components.baseline import evaluator as baseline_evaluator
from components import evaluation_progress
from components.contracts import node_ids
from components import data_report
from components import data_validation_gate
from components import import_examples
from components.explain import component as explain_component
from components import model_card
from components.model_card import component as model_card_component
from components.report import component as slice_report
from models import features
from models import model as model_module
from pipeline import configs
from pipeline import eval_config

PREPROCESSING_FN = 'models.preprocessing.preprocessing_fn'
RUN_FN = 'models.model.run_fn'

MODELS_DIR = os.path.dirname(os.path.abspath(model_module.__file__))
CONTRACTS_DIR = os.path.dirname(os.path.abspath(node_ids.__file__))


def code_digest(*package_dirs: str) -> str:
  """sha256 over the Python source of packages (default: `models`)."""
  digest = hashlib.sha256()
  for package_dir in package_dirs or (MODELS_DIR,):
    for name in sorted(os.listdir(package_dir)):
      if name.endswith('.py'):
        digest.update(name.encode())
        with open(os.path.join(package_dir, name), 'rb') as f:
          digest.update(f.read())
  return digest.hexdigest()[:16]


# Every numeric feature of the curated schema is a 0/1 attribute: two
# histogram buckets count its zeros and ones exactly, where TFDV's default
# ten took 30% of StatisticsGen's time over five slices of 42 features.
_HISTOGRAM_BUCKETS = 2


def statistics_options() -> tfdv.StatsOptions:
  """Statistics of every split, also sliced by the Male x Young cohorts.

  Top-k and unique counts come from TFDV's bounded sketches, which also
  honour the curated schema's non-categorical `image_id`; TFDV's exact
  counter keeps every distinct value in memory, so StatisticsGen's memory
  grew with the data (+0.27 GiB at 25,324 images, +0.44 GiB at 202,599).
  """
  return tfdv.StatsOptions(
      use_sketch_based_topk_uniques=True,
      slicing_config=slicing_spec_pb2.SlicingConfig(slicing_specs=[
          slicing_spec_pb2.SlicingSpec(
              feature_keys=[features.MALE_KEY, features.YOUNG_KEY])
      ]),
      num_histogram_buckets=_HISTOGRAM_BUCKETS,
      num_quantiles_histogram_buckets=_HISTOGRAM_BUCKETS,
      num_values_histogram_buckets=_HISTOGRAM_BUCKETS)


def create_pipeline(config: configs.PipelineConfig,
                    *,
                    data_root: str,
                    pipeline_root: str,
                    serving_dir: str,
                    baseline_dir: Optional[str] = None,
                    schema_file: str = schema_package.SCHEMA_FILE,
                    metadata_connection_config=None,
                    beam_pipeline_args: Sequence[str] = (),
                    enable_cache: bool = True,
                    data_note: str = '') -> tfx_pipeline.Pipeline:
  """Builds the pipeline.

  Args:
    config: every knob (configs.SAMPLE, configs.CELEBA or a variant).
    data_root: folder holding train/, eval/ and test/ with the GZIP TFRecords
      that `python -m components.celeba convert` writes.
    pipeline_root: where TFX writes every artifact.
    serving_dir: where the Pusher copies a blessed model.
    baseline_dir: where the served models the Evaluator compares against are
      read (components.baseline); default `serving_dir`, the Pusher's own
      destination.
    schema_file: the curated schema.
    metadata_connection_config: MLMD connection; None lets the orchestrator
      choose (Kubeflow provides its own).
    beam_pipeline_args: arguments for the Beam-based components.
    enable_cache: reuse results of unchanged components.
    data_note: shown at the top of the slice report and the model card (e.g.
      that the data is the generated sample, so its numbers are not CelebA
      results).
  """
  split = example_gen_pb2.Input.Split
  # TFX's ImportExampleGen with an executor that copies the converter's
  # shards as they are, where TFX's own reshuffles every split through memory
  # and writes one file per split (components/import_examples.py).
  example_gen = import_examples.ImportExampleGen(
      input_base=data_root,
      input_config=example_gen_pb2.Input(splits=[
          split(name=name, pattern=f'{name}/*.tfrecord.gz')
          for name in features.SPLITS
      ])).with_id(node_ids.EXAMPLE_GEN)

  curated_schema = import_schema_gen.ImportSchemaGen(
      schema_file=schema_file).with_id(node_ids.CURATED_SCHEMA)

  # With the curated schema, TFDV treats `image` (image_domain) as bytes:
  # byte-size statistics only. Without it, the JPEGs count as strings and the
  # top-k/unique-values sketch holds every distinct image, so StatisticsGen's
  # memory grows with the data (0.3 GiB at 3,000 images, 1.1 at 12,000).
  statistics_gen = tfx_components.StatisticsGen(
      examples=example_gen.outputs['examples'],
      schema=curated_schema.outputs['schema'],
      stats_options=statistics_options()).with_id(node_ids.STATISTICS_GEN)

  report_data = data_report.DataReport(
      statistics=statistics_gen.outputs['statistics'],
      imbalance_warning_rate=config.imbalance_warning_rate
  ).with_id(node_ids.DATA_REPORT)

  schema_gen = tfx_components.SchemaGen(
      statistics=statistics_gen.outputs['statistics'],
      infer_feature_shape=True).with_id(node_ids.SCHEMA_GEN)

  example_validator = tfx_components.ExampleValidator(
      statistics=statistics_gen.outputs['statistics'],
      schema=curated_schema.outputs['schema']
  ).with_id(node_ids.EXAMPLE_VALIDATOR)

  data_gate = data_validation_gate.DataValidationGate(
      anomalies=example_validator.outputs['anomalies']).with_id(
          node_ids.DATA_GATE)

  digest = code_digest()
  transform = tfx_components.Transform(
      examples=example_gen.outputs['examples'],
      schema=curated_schema.outputs['schema'],
      preprocessing_fn=PREPROCESSING_FN,
      # Decoded pixels are never written out (models/preprocessing.py), and
      # statistics over an image feature are what make Transform's memory
      # grow with the data.
      materialize=False,
      disable_statistics=True,
      splits_config=transform_pb2.SplitsConfig(analyze=[config.train_split]),
      custom_config={'image_size': config.model.image_size,
                     'code_digest': digest}).with_id(node_ids.TRANSFORM)
  transform.add_upstream_node(data_gate)

  # A warm start begins at the model being served, found the way the
  # Evaluator's baseline is (before the Trainer, so without a candidate).
  warm_start_model = None
  if config.model.warm_start:
    warm_start_model = served_baseline.ServedBaseline(
        model=None, source_dir=baseline_dir or serving_dir
    ).with_id(node_ids.WARM_START_MODEL)
  trainer = tfx_components.Trainer(
      run_fn=RUN_FN,
      base_model=(warm_start_model.outputs[served_baseline.BASELINE_KEY]
                  if warm_start_model else None),
      examples=example_gen.outputs['examples'],
      transform_graph=transform.outputs['transform_graph'],
      schema=curated_schema.outputs['schema'],
      train_args=trainer_pb2.TrainArgs(splits=[config.train_split]),
      eval_args=trainer_pb2.EvalArgs(splits=[config.eval_split]),
      custom_config={model_module.MODEL_CONFIG_KEY:
                     configs.model_custom_config(config),
                     'code_digest': digest}).with_id(node_ids.TRAINER)

  baseline = served_baseline.ServedBaseline(
      model=trainer.outputs['model'],
      source_dir=baseline_dir or serving_dir).with_id(node_ids.SERVED_BASELINE)

  evaluator = baseline_evaluator.Evaluator(
      examples=example_gen.outputs['examples'],
      model=trainer.outputs['model'],
      baseline_model=baseline.outputs[served_baseline.BASELINE_KEY],
      example_splits=[config.test_split],
      eval_config=eval_config.make_eval_config(config),
      module_path=evaluation_progress.__name__,
  ).with_id(node_ids.EVALUATOR)

  pusher = tfx_components.Pusher(
      model=trainer.outputs['model'],
      model_blessing=evaluator.outputs['blessing'],
      push_destination=pusher_pb2.PushDestination(
          filesystem=pusher_pb2.PushDestination.Filesystem(
              base_directory=serving_dir))).with_id(node_ids.PUSHER)

  explainer = None
  if config.explain.enabled:
    explainer = explain_component.ModelExplainer(
        model=trainer.outputs['model'],
        examples=example_gen.outputs['examples'],
        pushed_model=pusher.outputs['pushed_model'],
        config=config.explain.to_json(),
        split=config.test_split,
        code_digest=code_digest(explain_component.PACKAGE_DIR,
                                CONTRACTS_DIR, MODELS_DIR)
    ).with_id(node_ids.EXPLAINER)

  report_node = slice_report.SliceReport(
      evaluation=evaluator.outputs['evaluation'],
      statistics=statistics_gen.outputs['statistics'],
      model_run=trainer.outputs['model_run'],
      pushed_model=pusher.outputs['pushed_model'],
      explanation=explainer.outputs['explanation'] if explainer else None,
      note=data_note,
      code_digest=code_digest(slice_report.PACKAGE_DIR, CONTRACTS_DIR,
                              MODELS_DIR)
  ).with_id(node_ids.SLICE_REPORT)

  card = model_card_component.ModelCardGenerator(
      evaluation=evaluator.outputs['evaluation'],
      model=trainer.outputs['model'],
      data_report=report_data.outputs['report'],
      model_run=trainer.outputs['model_run'],
      pushed_model=pusher.outputs['pushed_model'],
      data_note=data_note,
      code_digest=code_digest(model_card.PACKAGE_DIR, slice_report.PACKAGE_DIR,
                              CONTRACTS_DIR, MODELS_DIR)
  ).with_id(node_ids.MODEL_CARD)

  components: List[base_node.BaseNode] = [
      example_gen, statistics_gen, report_data, schema_gen, curated_schema,
      example_validator, data_gate, transform, warm_start_model, trainer,
      baseline,
      evaluator, pusher, explainer, report_node, card,
  ]
  components = [c for c in components if c is not None]
  return tfx_pipeline.Pipeline(
      pipeline_name=config.name,
      pipeline_root=pipeline_root,
      components=components,
      enable_cache=enable_cache,
      metadata_connection_config=metadata_connection_config,
      beam_pipeline_args=list(beam_pipeline_args),
  )
