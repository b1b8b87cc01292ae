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

Besides the metrics that bless, every slice gets what the Model Cards paper
reports per intersectional group: FPR and FNR across a sweep of decision
thresholds (FallOut and MissRate, named so they do not replace the scalars at
0.5) and FDR and FOR at 0.5, all core TFMA metrics. Binary cross-entropy is
TFMA's with a merge that counts every example once (components.tfma_metrics).

Confidence intervals are TFMA's jackknife (20 buckets, a t-interval with 19
degrees of freedom): cheaper than its Poisson bootstrap (which reruns every
metric over every example 20 times, so its cost grows with the data; the
jackknife merges 20 per-bucket accumulators), and it covered at least as well
in simulations of these cohort sizes. TFMA blesses on the point values even
with intervals on, so the floors mean what they meant without them. The
intervals' cost is the Python work on confusion matrices in each of the 20
samples, which is why AUC gets fewer buckets than TFMA's default (see
configs.EvaluationOptions).
"""

import json
from typing import List, Sequence

import tensorflow_model_analysis as tfma

from components import tfma_metrics
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


def _rate_metrics(rate_thresholds: Sequence[float]
                  ) -> List[tfma.MetricConfig]:
  """FPR and FNR at every threshold, FDR and FOR at the decision threshold.

  The two sweeps share one confusion-matrix computation (same thresholds),
  and FDR and FOR share the one at 0.5 with precision, recall, FPR and FNR.
  """
  def sweep(class_name: str, name: str) -> tfma.MetricConfig:
    return tfma.MetricConfig(class_name=class_name, config=json.dumps(
        {'thresholds': list(rate_thresholds), 'name': name}))
  at_decision = json.dumps({'thresholds': [metric_names.DECISION_THRESHOLD]})
  return [
      sweep('FallOut', metric_names.FALSE_POSITIVE_RATE_SWEEP),
      sweep('MissRate', metric_names.FALSE_NEGATIVE_RATE_SWEEP),
      tfma.MetricConfig(class_name='FalseDiscoveryRate', config=at_decision),
      tfma.MetricConfig(class_name='FalseOmissionRate', config=at_decision),
  ]


def _metrics(output: str, thresholds: configs.EvalThresholds,
             evaluation: configs.EvaluationOptions
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
      tfma.MetricConfig(
          class_name=tfma_metrics.MergeSafeBinaryCrossEntropy.__name__,
          module=tfma_metrics.__name__),
      tfma.MetricConfig(class_name='AUC', config=json.dumps(
          {'num_thresholds': evaluation.auc_num_thresholds})),
      tfma.MetricConfig(class_name='Precision'),
      tfma.MetricConfig(class_name='Recall'),
      tfma.MetricConfig(class_name='FallOut'),
      tfma.MetricConfig(class_name='MissRate'),
      tfma.MetricConfig(class_name='ExampleCount'),
      tfma.MetricConfig(class_name='ConfusionMatrixAtThresholds',
                        config=json.dumps(
                            {'thresholds': [metric_names.DECISION_THRESHOLD]})),
  ] + _rate_metrics(evaluation.rate_thresholds)


def options(evaluation: configs.EvaluationOptions) -> tfma.Options:
  """TFMA's options: jackknife intervals when the config asks for them."""
  if not evaluation.confidence_intervals:
    return tfma.Options()
  return tfma.Options(
      compute_confidence_intervals={'value': True},
      confidence_intervals=tfma.ConfidenceIntervalOptions(
          method=tfma.ConfidenceIntervalOptions.JACKKNIFE))


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
                           metrics=_metrics(output, config.thresholds,
                                            config.evaluation))
          for output in features.LABEL_KEYS
      ],
      options=options(config.evaluation),
  )
