"""TFMA configuration: which metrics, on which cohorts, with which thresholds.

The model is judged per output (`Male`, `Young`) on five views of the test
split: overall, per gender, per age group and per gender x age cohort.

Thresholds are scoped with `per_slice_thresholds`: a plain `threshold` on a
MetricConfig is checked on every slice, and the single-label slices (all-Male,
all-Young) would then fail metrics such as AUC that need both label values.

* the accuracy floor and the change threshold against the baseline (the
  model being served, components.baseline) apply to the overall slice;
* the cohort floor applies to each of the four Male x Young cohorts, i.e. it
  is a floor for the worst cohort.
"""

import json
from typing import List

import tensorflow_model_analysis as tfma

from components.contracts import metric_names
from models import features
from models import signatures
from pipeline import configs

def slicing_specs() -> List[tfma.SlicingSpec]:
  """Overall, per label, and per Male x Young cohort."""
  return [
      tfma.SlicingSpec(),
      tfma.SlicingSpec(feature_keys=[features.MALE_KEY]),
      tfma.SlicingSpec(feature_keys=[features.YOUNG_KEY]),
      tfma.SlicingSpec(feature_keys=[features.MALE_KEY, features.YOUNG_KEY]),
  ]


def cohort_slicing_specs() -> List[tfma.SlicingSpec]:
  """One spec per cohort, by value, to scope the cohort floor."""
  return [
      tfma.SlicingSpec(feature_values={features.MALE_KEY: str(male),
                                       features.YOUNG_KEY: str(young)})
      for male, young in features.COHORTS
  ]


def _metrics(output: str, thresholds: configs.EvalThresholds
             ) -> List[tfma.MetricConfig]:
  overall = tfma.PerSliceMetricThreshold(
      slicing_specs=[tfma.SlicingSpec()],
      threshold=tfma.MetricThreshold(
          value_threshold=tfma.GenericValueThreshold(
              lower_bound={'value': thresholds.accuracy_floor[output]}),
          change_threshold=tfma.GenericChangeThreshold(
              direction=tfma.MetricDirection.HIGHER_IS_BETTER,
              absolute={'value': -thresholds.max_accuracy_drop})))
  cohorts = tfma.PerSliceMetricThreshold(
      slicing_specs=cohort_slicing_specs(),
      threshold=tfma.MetricThreshold(
          value_threshold=tfma.GenericValueThreshold(
              lower_bound={
                  'value': thresholds.cohort_accuracy_floor[output]})))
  return [
      tfma.MetricConfig(class_name='BinaryAccuracy',
                        config=json.dumps(
                            {'threshold': metric_names.DECISION_THRESHOLD}),
                        per_slice_thresholds=[overall, cohorts]),
      tfma.MetricConfig(class_name='BinaryCrossEntropy'),
      tfma.MetricConfig(class_name='AUC'),
      tfma.MetricConfig(class_name='Precision'),
      tfma.MetricConfig(class_name='Recall'),
      tfma.MetricConfig(class_name='FallOut'),
      tfma.MetricConfig(class_name='MissRate'),
      tfma.MetricConfig(class_name='ExampleCount'),
      tfma.MetricConfig(class_name='ConfusionMatrixAtThresholds',
                        config=json.dumps(
                            {'thresholds': [metric_names.DECISION_THRESHOLD]})),
  ]


def make_eval_config(config: configs.PipelineConfig) -> tfma.EvalConfig:
  """The Evaluator's EvalConfig for `config`'s thresholds."""
  return tfma.EvalConfig(
      model_specs=[
          tfma.ModelSpec(
              signature_name=signatures.SERVING_DEFAULT,
              label_keys={label: label for label in features.LABEL_KEYS})
      ],
      slicing_specs=slicing_specs(),
      metrics_specs=[
          tfma.MetricsSpec(output_names=[output],
                           metrics=_metrics(output, config.thresholds))
          for output in features.LABEL_KEYS
      ],
  )
