"""What the model card says, as a dict in the Model Card Toolkit's v0.0.2 shape.

Every number comes from an artifact of the run, through its one reader:
TFMA's values and 95% intervals from the Evaluator's output
(components.contracts.evaluation), the thresholds that decided the blessing
from the eval config the Evaluator recorded (components.report.thresholds),
split sizes and label balance from the DataReport (label_balance.json), the
signatures from the SavedModel's own signature defs, the hyperparameters and
class weights from the Trainer's model run (models.run_record). Nothing is
recomputed; the sentences that quote numbers (trade-offs, risks) quote those.
"""

import base64
import dataclasses
import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from components.contracts import evaluation as er
from components.contracts import label_balance
from components.contracts import metric_names
from components.contracts import model_card as card_contract
from components.contracts import push_record
from components.report import content as report_content
from components.report import plots
from components.report import thresholds as thresholds_lib
from models import features
from models import run_record
from models import signatures as signatures_lib

CELEBA_URL = 'https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html'
MODEL_CARDS_PAPER = 'https://arxiv.org/abs/1810.03993'
# The public signatures, whose formats the card states.
PUBLIC_SIGNATURES = (signatures_lib.SERVING_DEFAULT, signatures_lib.SERVING_JPEG)

# The metrics the card reports per output and slice, in this order (the
# sweeps follow, one entry per threshold). A metric that says nothing on a
# slice (e.g. precision where the output's label is fixed) is left out.
CARD_METRICS = (metric_names.ACCURACY, metric_names.FALSE_POSITIVE_RATE,
                metric_names.FALSE_NEGATIVE_RATE,
                metric_names.FALSE_DISCOVERY_RATE,
                metric_names.FALSE_OMISSION_RATE, metric_names.AUC,
                metric_names.EXAMPLE_COUNT)
# Marks a use case the model is not for: schema v0.0.2 has no field of its
# own for out-of-scope uses, so they are use cases that say so first.
OUT_OF_SCOPE = 'Out of scope: '


@dataclasses.dataclass(frozen=True)
class TensorFormat:
  name: str
  dtype: str
  shape: Tuple[Optional[int], ...]  # None for a free dimension

  @property
  def text(self) -> str:
    dims = ', '.join('batch' if d is None and i == 0 else
                     ('?' if d is None else str(d))
                     for i, d in enumerate(self.shape))
    return f'{self.name} {self.dtype}[{dims}]'


@dataclasses.dataclass(frozen=True)
class Signature:
  name: str
  inputs: Tuple[TensorFormat, ...]
  outputs: Tuple[TensorFormat, ...]


@dataclasses.dataclass(frozen=True)
class RunInfo:
  """What identifies the model: the pipeline, its run and the artifacts."""
  pipeline_name: str
  run_id: str
  date: str            # ISO date of the run
  model_uri: str
  model_id: Optional[int] = None


def _signature_text(signature: Signature, side: str) -> str:
  tensors = signature.inputs if side == 'inputs' else signature.outputs
  return f'{signature.name}: ' + '; '.join(t.text for t in tensors)


SIGNATURE_MEANING = {
    signatures_lib.SERVING_DEFAULT: (
        'serialized tf.Example protos holding the raw JPEG under `image` '
        '(what TFMA and TF Serving send)'),
    signatures_lib.SERVING_JPEG: 'raw JPEG bytes of aligned face photos',
}


def formats(signatures: Mapping[str, Signature]) -> Tuple[str, str]:
  """The input and the output format strings of the public signatures."""
  present = [signatures[n] for n in PUBLIC_SIGNATURES if n in signatures]
  inputs = ' | '.join(
      _signature_text(s, 'inputs') +
      (f' ({SIGNATURE_MEANING[s.name]})' if s.name in SIGNATURE_MEANING
       else '') for s in present)
  outputs = ' | '.join(
      _signature_text(s, 'outputs') + ' (probabilities that the annotators '
      'labelled the face Male and Young; a value above 0.5 counts as yes)'
      for s in present)
  return inputs, outputs


def architecture(training: Optional[run_record.TrainingRecord],
                 signatures: Mapping[str, Signature]) -> str:
  hp = training.hyperparameters if training else {}
  parts = ['MobileNetV2 backbone (tf-keras)']
  if hp:
    weights = hp.get('weights', '?')
    start = ('from scratch' if weights == 'none' else
             f'from {weights} weights')
    parts[0] += (f', width multiplier alpha {hp.get("alpha", "?")}, '
                 f'input {hp.get("image_size", "?")} x '
                 f'{hp.get("image_size", "?")} x 3, trained {start}')
  parts.append(
      'global average pooling and dropout, then two sigmoid heads, '
      f'{" and ".join(features.LABEL_KEYS)}, one probability each')
  parts.append(
      'the preprocessing (JPEG decode, resize, scale) is the Transform graph, '
      'exported inside the model')
  if training is not None:
    loss = training.loss
    if loss == 'weighted_bce':
      weights = '; '.join(
          f'{label} positives x{w["positive_weight"]:.2f}, negatives '
          f'x{w["negative_weight"]:.2f}'
          for label, w in training.class_weights.items())
      parts.append('loss: binary cross-entropy per head, class-weighted from '
                   f'the train split ({weights})')
    else:
      parts.append(f'loss: {loss}')
    if hp.get('epochs') is not None:
      parts.append(f'up to {hp["epochs"]} epochs, batch {hp.get("batch_size")}'
                   ', early stopping on the eval split')
  others = sorted(set(signatures) - set(PUBLIC_SIGNATURES))
  if others:
    parts.append('further signatures: ' + ', '.join(others))
  return '; '.join(parts) + '.'


def _dataset_name(generated: bool) -> str:
  return ('generated sample in CelebA\'s layout' if generated else 'CelebA')


def datasets(balance: Optional[Mapping[str, label_balance.SplitBalance]],
             generated: bool) -> List[Dict[str, Any]]:
  """One dataset entry per split: size, label balance and cohort sizes."""
  if not balance:
    return []
  use = {'train': 'trains the model and derives the class weights',
         'eval': 'early stopping and model selection',
         'test': 'the evaluation this card reports (TFMA)'}
  sensitive = (['none: drawn faces, no real person'] if generated else [
      'photographs of real, identifiable people (celebrities)',
      'gender (Male) and age-group (Young) labels, as annotators judged them'])
  entries = []
  for split in [s for s in features.SPLITS if s in balance] + sorted(
      s for s in balance if s not in features.SPLITS):
    b = balance[split]
    rates = ', '.join(f'{label} {rate:.1%} positive'
                      for label, rate in b.positive_rates.items())
    cohorts = ', '.join(f'{name} {b.cohort_counts[name]} '
                        f'({b.cohort_shares[name]:.1%})'
                        for name in features.cohort_names()
                        if name in b.cohort_counts)
    entry = {
        'name': f'{_dataset_name(generated)}, {split} split',
        'description': (f'{b.num_examples} faces; {rates}; cohorts: '
                        f'{cohorts}. Used for: {use.get(split, split)}. '
                        'From StatisticsGen, via the DataReport.'),
        'sensitive': {'sensitive_data': sensitive},
    }
    if not generated:
      entry['link'] = CELEBA_URL
    entries.append(entry)
  return entries


def _finite(x: float) -> bool:
  return x is not None and math.isfinite(x)


def _metric(output: str, slice_key: er.SliceKey, metric: str, value: float,
            interval: Optional[er.Interval],
            threshold: Optional[float] = None) -> Optional[Dict[str, Any]]:
  if not _finite(value):
    return None  # undefined on the slice; NaN is not JSON
  entry = {'type': card_contract.metric_type(output, metric, threshold),
           'value': float(value), 'slice': er.slice_name(slice_key)}
  if interval is not None and interval.finite:
    entry[card_contract.INTERVAL] = {card_contract.LOWER: interval.lower,
                                     card_contract.UPPER: interval.upper}
  return entry


def performance_metrics(evaluation: er.Evaluation) -> List[Dict[str, Any]]:
  """Every card metric per output and slice, TFMA's values and intervals."""
  candidate = evaluation.candidate()
  result = []
  for output in features.LABEL_KEYS:
    for key in report_content.ALL_SLICES:
      entry = candidate.get(key, {}).get(output)
      if entry is None:
        continue
      for metric in CARD_METRICS:
        if report_content.meaningful(key, output, metric):
          result.append(_metric(output, key, metric, entry.get(metric),
                                entry.interval(metric)))
      for metric in metric_names.SWEEPS:
        if not report_content.meaningful(key, output, metric):
          continue
        thresholds = evaluation.thresholds(output, metric)
        for threshold, value, interval in zip(
            thresholds, entry.array(metric), entry.array_interval(metric)):
          result.append(_metric(output, key, metric, value, interval,
                                threshold))
  return [r for r in result if r is not None]


def _report_of(evaluation: er.Evaluation, evaluation_uri: str
               ) -> report_content.ReportContent:
  candidate = report_content.model_from_evaluation(
      evaluation_uri, er.CANDIDATE, evaluation=evaluation)
  return report_content.ReportContent(
      title='model card', kind=report_content.SINGLE, models=[candidate])


def graphics(evaluation: er.Evaluation, evaluation_uri: str
             ) -> List[Dict[str, str]]:
  """The report's heatmaps and threshold plots, as base64 PNG."""
  report = _report_of(evaluation, evaluation_uri)
  model = report.subject
  collection = []
  for output in report.outputs():
    collection.append({
        'name': f'{output}: accuracy per Male x Young cohort (95% intervals)',
        'image': base64.b64encode(plots.heatmap_figure(report, output)
                                  ).decode('ascii')})
  if model.has_sweeps:
    for output in report.outputs():
      collection.append({
          'name': f'{output}: FPR and FNR across decision thresholds, per '
                  'cohort (95% intervals)',
          'image': base64.b64encode(plots.threshold_figure(model, output)
                                    ).decode('ascii')})
  return collection


def _pct(value: float) -> str:
  return report_content.percent(value)


def _sweep_at(entry: er.OutputMetrics, thresholds: Sequence[float],
              metric: str, threshold: float) -> float:
  for t, v in zip(thresholds, entry.array(metric)):
    if abs(t - threshold) < 1e-9:
      return v
  return math.nan


def tradeoffs(evaluation: er.Evaluation) -> List[Dict[str, str]]:
  """What moving the threshold does, per output, from TFMA's sweeps."""
  candidate = evaluation.candidate()
  result = []
  for output in features.LABEL_KEYS:
    fpr_t = evaluation.thresholds(output, metric_names.FALSE_POSITIVE_RATE_SWEEP)
    fnr_t = evaluation.thresholds(output, metric_names.FALSE_NEGATIVE_RATE_SWEEP)
    overall = candidate.get(er.OVERALL, {}).get(output)
    if not fpr_t or not fnr_t or overall is None:
      continue
    low, high = min(fpr_t), max(fpr_t)
    at = metric_names.DECISION_THRESHOLD

    def rates(entry, t):
      return (_sweep_at(entry, fpr_t, metric_names.FALSE_POSITIVE_RATE_SWEEP,
                        t),
              _sweep_at(entry, fnr_t, metric_names.FALSE_NEGATIVE_RATE_SWEEP,
                        t))

    def worst(metric, t, thresholds):
      scored = []
      for key in evaluation.cohorts():
        entry = candidate[key].get(output)
        if entry is not None:
          v = _sweep_at(entry, thresholds, metric, t)
          if _finite(v):
            scored.append((v, key))
      return max(scored) if scored else None

    text = [f'{output}: the pipeline decides at {at:g}, where overall FPR is '
            f'{_pct(overall.get(metric_names.FALSE_POSITIVE_RATE))} and FNR '
            f'{_pct(overall.get(metric_names.FALSE_NEGATIVE_RATE))}.']
    for t, direction in ((low, 'Lowering'), (high, 'Raising')):
      fpr, fnr = rates(overall, t)
      sentence = (f'{direction} it to {t:g} gives FPR {_pct(fpr)} and FNR '
                  f'{_pct(fnr)} overall')
      metric = (metric_names.FALSE_POSITIVE_RATE_SWEEP if t < at else
                metric_names.FALSE_NEGATIVE_RATE_SWEEP)
      hit = worst(metric, t, fpr_t if t < at else fnr_t)
      if hit is not None:
        rate = 'FPR' if t < at else 'FNR'
        sentence += (f'; the cohort it costs most is {er.slice_name(hit[1])}'
                     f' ({rate} {_pct(hit[0])})')
      text.append(sentence + '.')
    text.append('A lower threshold misses fewer positives and accepts more '
                'false ones; the threshold plots show each cohort\'s curve '
                'with its 95% intervals.')
    result.append({'description': ' '.join(text)})
  return result


def _floors(evaluation: er.Evaluation
            ) -> Dict[str, Dict[str, List[thresholds_lib.ThresholdCheck]]]:
  """output -> 'overall' / 'cohorts' -> the accuracy floors checked."""
  result: Dict[str, Dict[str, List[thresholds_lib.ThresholdCheck]]] = {}
  for check in thresholds_lib.threshold_checks(evaluation):
    if check.metric != metric_names.ACCURACY or check.is_change:
      continue
    where = 'overall' if check.slice_key == er.OVERALL else 'cohorts'
    if where == 'cohorts' and len(check.slice_key) != 2:
      continue
    result.setdefault(check.output, {}).setdefault(where, []).append(check)
  return result


def _value_with_interval(entry: er.OutputMetrics, metric: str) -> str:
  info = report_content.METRIC_INFO[metric]
  return (f'{info.fmt(entry.get(metric))} '
          f'{info.interval_text(entry.interval(metric))}').strip()


def ethical_considerations(evaluation: er.Evaluation
                           ) -> List[Dict[str, str]]:
  """The risks of a gender and age classifier, and what the pipeline does."""
  floors = _floors(evaluation)
  result = []
  for output, harm in ((features.MALE_KEY, 'Misgendering'),
                       (features.YOUNG_KEY, 'Misjudging age')):
    gap = evaluation.worst_cohort_gap(output)
    if gap is None:
      continue
    cohort = evaluation.candidate()[gap.cohort][output]
    verdict = {True: 'larger than its 95% interval: a real gap',
               False: 'within its 95% interval: not distinguishable from '
                      'noise at this test size',
               None: 'not judged (no interval)'}[gap.beyond_interval]
    name = (f'{harm}: {output} is least accurate on {er.slice_name(gap.cohort)}'
            f' ({_value_with_interval(cohort, metric_names.ACCURACY)}, '
            f'{gap.gap * 100:.1f} points below overall; the gap is {verdict})'
            '; errors that fall on one group more than another harm that '
            'group.')
    checks = floors.get(output, {})
    parts = []
    for where in ('cohorts', 'overall'):
      found = checks.get(where, [])
      if not found:
        continue
      bounds = sorted({c.bounds.text for c in found})
      if len(found) == 1:
        status = found[0].status
      elif all(c.status == found[0].status for c in found):
        status = f'all {found[0].status}'
      else:
        status = ', '.join(f'{er.slice_name(c.slice_key)} {c.status}'
                           for c in found)
      scope = ('on each of the four gender x age cohorts' if where == 'cohorts'
               else 'overall')
      parts.append(f'accuracy {" / ".join(bounds)} {scope} ({status})')
    mitigation = ('The Evaluator blesses, and the Pusher serves, a model only '
                  f'if its {output} ' + ' and '.join(parts) + '; '
                  if parts else 'No accuracy floor was checked for this '
                  'output; ')
    mitigation += ('the class-weighted loss counters the label imbalance; '
                   'this card and the slice report publish every cohort\'s '
                   'error rates with their intervals.')
    result.append({'name': name, 'mitigation_strategy': mitigation})
  result.append({
      'name': ('Inferring gender or age of people who did not consent, or '
               'acting on it: the output is an annotator-style label, not a '
               'person\'s gender identity or age.'),
      'mitigation_strategy': (
          'Out of scope by this card: no identification, surveillance or '
          'decisions about people. The labels are binary and perceived; '
          'non-binary people and people whose appearance differs from '
          'these annotators\' judgement are misdescribed by design.')})
  return result


def considerations(evaluation: er.Evaluation, generated: bool,
                   data_note: str) -> Dict[str, Any]:
  counts = [(evaluation.candidate()[k][features.MALE_KEY].get(
      metric_names.EXAMPLE_COUNT), k) for k in evaluation.cohorts()
            if features.MALE_KEY in evaluation.candidate()[k]]
  counts = [(n, k) for n, k in counts if _finite(n)]
  limitations = []
  if generated:
    limitations.append(
        'The data is the generated sample, not CelebA: drawn faces whose '
        'attributes are drawn at CelebA\'s rates. The numbers show that the '
        'pipeline works; they say nothing about real faces.'
        + (f' ({data_note})' if data_note else ''))
  elif data_note:
    limitations.append(data_note)
  limitations += [
      'CelebA holds aligned photographs of celebrities: posed, well lit, '
      'often made up, and skewed towards young and light-skinned faces. '
      'Accuracy on everyday photos, other ages, skin tones, cameras or '
      'poses is unmeasured.',
      'Its Male and Young labels are binary and were judged by annotators '
      'from the photo (perceived gender presentation; "young" with no stated '
      'age), so they hold label noise and no ground truth about a person.',
      'CelebA is licensed for non-commercial research only; so is a model '
      'trained on it.',
  ]
  if counts:
    n, key = min(counts)
    limitations.append(
        f'The smallest test cohort ({er.slice_name(key)}) has {n:.0f} faces, '
        f'so one face moves its accuracy by {100 / n:.1f} points. The 95% '
        f'intervals are TFMA\'s {evaluation.interval_method or "(none)"} '
        'intervals: approximate at this size, not clipped to [0, 1], and '
        'different on every rerun that recomputes them; a zero-width '
        'interval means no spread was measurable, not certainty.')
  return {
      'users': [
          {'description': 'Machine-learning practitioners and researchers '
                          'studying face-attribute classifiers and their '
                          'error rates per gender x age cohort.'},
          {'description': 'Reviewers and auditors of such models, who need '
                          'disaggregated error rates with their uncertainty.'},
          {'description': 'Engineers learning to build, gate and document a '
                          'TFX pipeline.'},
      ],
      'use_cases': [
          {'description': 'Research and benchmarking: how a classifier\'s FPR '
                          'and FNR differ across gender x age cohorts, and '
                          'how class weighting and thresholds move them.'},
          {'description': 'A worked example of a cohort-gated pipeline and of '
                          'model reporting (this card, the slice report).'},
          {'description': OUT_OF_SCOPE + 'identifying or verifying people, '
                          'or matching faces across photos.'},
          {'description': OUT_OF_SCOPE + 'surveillance, tracking or '
                          'profiling of people, in public or online.'},
          {'description': OUT_OF_SCOPE + 'decisions about people (access, '
                          'hiring, credit, policing, age checks, content '
                          'moderation) and telling anyone their gender or '
                          'age.'},
      ],
      'limitations': [{'description': d} for d in limitations],
      'tradeoffs': tradeoffs(evaluation),
      'ethical_considerations': ethical_considerations(evaluation),
  }


def _verdict_text(evaluation: er.Evaluation,
                  push: Optional[push_record.PushRecord]) -> str:
  verdict = {True: 'BLESSED', False: 'NOT BLESSED',
             None: 'not validated'}[evaluation.validation_ok]
  text = f'Evaluator verdict: {verdict}'
  if push is not None:
    text += (f'; pushed to {push.destination}' if push.pushed else
             '; not pushed')
  return text + '.'


def build(evaluation: er.Evaluation, evaluation_uri: str, *,
          run: RunInfo,
          signatures: Mapping[str, Signature],
          balance: Optional[Mapping[str, label_balance.SplitBalance]] = None,
          training: Optional[run_record.TrainingRecord] = None,
          push: Optional[push_record.PushRecord] = None,
          pushed_version: str = '',
          generated: bool = False,
          data_note: str = '') -> Dict[str, Any]:
  """The model card of one run's candidate model, ready for the contract."""
  data = ('GENERATED faces (drawn in CelebA\'s layout); '
          'these numbers are not CelebA results' if generated else
          'CelebA (aligned faces)')
  overview = (
      f'{"GENERATED DATA. " if generated else ""}MobileNetV2 that predicts '
      'two binary attributes of an aligned face photo, Male (gender) and '
      f'Young (age group), trained and evaluated on {data}. Its error rates '
      'are reported per gender x age cohort with 95% intervals, across '
      f'decision thresholds. {_verdict_text(evaluation, push)}')
  documentation = (
      'Trained by the TFX pipeline of this project (ImportExampleGen, '
      'StatisticsGen, Transform, Trainer, Evaluator, Pusher) in run '
      f'{run.run_id}. The Evaluator (TFMA) judged it on the test split, '
      'overall, per gender, per age group and per gender x age cohort, with '
      f'{evaluation.interval_method or "no"} confidence intervals; the '
      'blessing checks point estimates against accuracy floors. The slice '
      'report of the same run shows every metric. Model: '
      f'{run.model_uri}.')
  version_name = pushed_version or (
      f'model artifact {run.model_id}' if run.model_id is not None else
      run.run_id)
  input_format, output_format = formats(signatures)
  card = {
      'schema_version': card_contract.SCHEMA_VERSION,
      'model_details': {
          'name': run.pipeline_name,
          'overview': overview,
          'documentation': documentation,
          'version': {
              'name': version_name,
              'date': run.date,
              'diff': (f'Run {run.run_id}; model artifact '
                       f'{run.model_id}. {_verdict_text(evaluation, push)}'),
          },
          'licenses': [{'custom_text': (
              'The code is Apache-2.0. A model trained on CelebA falls under '
              'CelebA\'s terms: non-commercial research only.')}],
          'references': [{'reference': CELEBA_URL},
                         {'reference': MODEL_CARDS_PAPER}],
          'citations': [
              {'style': 'text', 'citation': (
                  'Z. Liu, P. Luo, X. Wang, X. Tang. Deep Learning Face '
                  'Attributes in the Wild. ICCV 2015.')},
              {'style': 'text', 'citation': (
                  'M. Mitchell et al. Model Cards for Model Reporting. '
                  'FAT* 2019.')},
          ],
      },
      'model_parameters': {
          'model_architecture': architecture(training, signatures),
          'data': datasets(balance, generated),
          'input_format': input_format,
          'output_format': output_format,
      },
      'quantitative_analysis': {
          'performance_metrics': performance_metrics(evaluation),
          'graphics': {
              'description': (
                  'From TFMA\'s metrics: accuracy per cohort, and FPR / FNR '
                  'per cohort across decision thresholds, with 95% '
                  'intervals as error bars (clipped to [0, 1] for display).'),
              'collection': graphics(evaluation, evaluation_uri),
          },
      },
      'considerations': considerations(evaluation, generated, data_note),
  }
  return card
