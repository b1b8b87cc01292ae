"""The thresholds that decided a blessing, as the run recorded them.

The report must be true to the run it describes, not to today's configs.py:
the thresholds are those of the eval config the Evaluator recorded with its
output (components.contracts.evaluation reads it), expanded to
(metric, output, slice) with TFMA's own `metric_thresholds_from_metrics_specs`
and matched to slices with TFMA's slicer. Pass or fail comes from TFMA's
validation result; nothing is compared here.
"""

import dataclasses
import math
from typing import List

import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.slicer import slicer_lib

from components.contracts import evaluation as er

PASSED = 'passed'
FAILED = 'failed'
NOT_CHECKED = 'not checked'


@dataclasses.dataclass(frozen=True)
class ThresholdCheck:
  """One threshold on one slice, with the value TFMA measured there."""
  output: str
  metric: str
  slice_key: er.SliceKey
  bounds: er.Bounds
  observed: float          # TFMA's value (or diff) on that slice; NaN if none
  status: str              # PASSED, FAILED or NOT_CHECKED

  @property
  def is_change(self) -> bool:
    """A change against the baseline, not a value."""
    return self.bounds.is_change

  @property
  def bound_text(self) -> str:
    return self.bounds.text


def _matching_slices(slice_spec, slices: List[er.SliceKey]
                     ) -> List[er.SliceKey]:
  if slice_spec is None:  # a MetricConfig.threshold: every slice
    return list(slices)
  spec = slicer_lib.SingleSliceSpec(spec=slice_spec)
  return [key for key in slices if spec.is_slice_applicable(key)]


def threshold_checks(evaluation: er.Evaluation) -> List[ThresholdCheck]:
  """Every (threshold, slice) the Evaluator checked, with TFMA's verdict."""
  config = evaluation.eval_config
  if config is None:
    return []
  failed = {(f.slice_key, f.output, f.metric, f.is_diff)
            for f in evaluation.failures}
  candidate = evaluation.candidate()
  slices = evaluation.slices()
  checks = []
  by_key = tfma.metrics.metric_thresholds_from_metrics_specs(
      config.metrics_specs, config)
  for key, specs_and_thresholds in by_key.items():
    if key.model_name and key.model_name != er.CANDIDATE:
      continue
    for slice_spec, threshold in specs_and_thresholds:
      for slice_key in _matching_slices(slice_spec, slices):
        metrics = candidate.get(slice_key, {}).get(key.output_name)
        if metrics is None:
          observed = math.nan
        elif key.is_diff:
          observed = metrics.diffs.get(key.name, math.nan)
        else:
          observed = metrics.get(key.name)
        if key.is_diff and not evaluation.has_baseline:
          status = NOT_CHECKED
        elif (slice_key, key.output_name, key.name, key.is_diff) in failed:
          status = FAILED
        elif evaluation.validation_ok is None:
          status = NOT_CHECKED
        else:
          status = PASSED
        checks.append(ThresholdCheck(
            output=key.output_name, metric=key.name, slice_key=slice_key,
            bounds=er.bounds_of(threshold), observed=observed,
            status=status))
  return sorted(checks, key=lambda c: (c.output, c.metric, c.is_change,
                                       len(c.slice_key), c.slice_key))
