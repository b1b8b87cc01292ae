"""The thresholds that decided a blessing, as the run recorded them.

The report must be true to the run it describes, not to today's configs.py:
the thresholds are read from the `eval_config.json` TFMA wrote into the
Evaluator's output folder (the Evaluator drops change thresholds from it when
there is no baseline, so that file is exactly what was checked), expanded to
(metric, output, slice) with TFMA's own `metric_thresholds_from_metrics_specs`
and matched to slices with TFMA's slicer. Pass or fail comes from TFMA's
validation result; nothing is compared here.
"""

import dataclasses
import math
import os
from typing import Dict, List, Optional

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

import tensorflow_model_analysis as tfma  # pylint: disable=g-import-not-at-top
from tensorflow_model_analysis.slicer import slicer_lib
from tensorflow_model_analysis.writers import eval_config_writer

from components import evaluation_results as er

PASSED = 'passed'
FAILED = 'failed'
NOT_CHECKED = 'not checked'


@dataclasses.dataclass(frozen=True)
class ThresholdCheck:
  """One threshold on one slice, with the value TFMA measured there."""
  output: str
  metric: str
  slice_key: er.SliceKey
  is_change: bool          # a change against the baseline, not a value
  lower: Optional[float]
  upper: Optional[float]
  relative: bool           # a relative (not absolute) change threshold
  observed: float          # TFMA's value (or diff) on that slice; NaN if none
  status: str              # PASSED, FAILED or NOT_CHECKED

  @property
  def bound_text(self) -> str:
    what = ('relative change vs baseline' if self.relative else
            'change vs baseline') if self.is_change else 'value'
    parts = []
    if self.lower is not None:
      parts.append(f'{what} >= {self.lower:+g}' if self.is_change else
                   f'>= {self.lower:g}')
    if self.upper is not None:
      parts.append(f'{what} <= {self.upper:+g}' if self.is_change else
                   f'<= {self.upper:g}')
    return ', '.join(parts)


def load_eval_config(evaluation_uri: str) -> Optional[tfma.EvalConfig]:
  """The EvalConfig the Evaluator ran with (its eval_config.json)."""
  config, _, _, _ = eval_config_writer.load_eval_run(evaluation_uri)
  return config


def load_model_locations(evaluation_uri: str) -> Dict[str, str]:
  """Model name -> model path, as the Evaluator recorded them."""
  _, _, _, locations = eval_config_writer.load_eval_run(evaluation_uri)
  return dict(locations)


def _bounds(threshold) -> Dict[str, Optional[float]]:
  lower = upper = None
  if isinstance(threshold, tfma.GenericValueThreshold):
    if threshold.HasField('lower_bound'):
      lower = threshold.lower_bound.value
    if threshold.HasField('upper_bound'):
      upper = threshold.upper_bound.value
    return dict(lower=lower, upper=upper, relative=False)
  # GenericChangeThreshold: HIGHER_IS_BETTER means 'at least'; LOWER_IS_BETTER
  # 'at most'.
  relative = threshold.HasField('relative') and not threshold.HasField(
      'absolute')
  bound = (threshold.relative if relative else threshold.absolute).value
  if threshold.direction == tfma.MetricDirection.LOWER_IS_BETTER:
    upper = bound
  else:
    lower = bound
  return dict(lower=lower, upper=upper, relative=relative)


def _matching_slices(slice_spec, slices: List[er.SliceKey]
                     ) -> List[er.SliceKey]:
  if slice_spec is None:  # a MetricConfig.threshold: every slice
    return list(slices)
  spec = slicer_lib.SingleSliceSpec(spec=slice_spec)
  return [key for key in slices if spec.is_slice_applicable(key)]


def threshold_checks(evaluation_uri: str,
                     evaluation: er.Evaluation) -> List[ThresholdCheck]:
  """Every (threshold, slice) the Evaluator checked, with TFMA's verdict."""
  config = load_eval_config(evaluation_uri)
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
            is_change=key.is_diff, observed=observed, status=status,
            **_bounds(threshold)))
  return sorted(checks, key=lambda c: (c.output, c.metric, c.is_change,
                                       len(c.slice_key), c.slice_key))
