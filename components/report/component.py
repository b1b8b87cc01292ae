"""SliceReport: the TFX component that writes the slice report of a run.

It runs after the Evaluator and the Pusher, so the report can say both how
the model did per cohort and what happened to it. Its output is a SliceReport
artifact (components.artifacts) recorded in MLMD like any TFX output; the
folder holds report.html, report.md and report.json (see components.report).

Inputs:
  evaluation     the Evaluator's ModelEvaluation: metrics for the candidate and,
                 when the Evaluator had one, the baseline; the validation
                 result; the eval_config with the thresholds that were checked
  statistics     StatisticsGen's output, sliced by Male x Young: the label
                 balance per split and the cohort counts
  model_run      optional: the Trainer's ModelRun (class weights, loss)
  pushed_model   optional: the Pusher's PushedModel (whether and where pushed)
  explanation    optional: the ModelExplainer's ModelExplanation, whose
                 figures are embedded

Optional inputs are declared the TFX 1.16 way for Python-function components:
an `InputArtifact[...]` argument whose default is None.
"""

import os

from absl import logging
from tfx.dsl.component.experimental.annotations import InputArtifact
from tfx.dsl.component.experimental.annotations import OutputArtifact
from tfx.dsl.component.experimental.annotations import Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts

from components import artifacts
from components.contracts import evaluation as er
from components.report import content as content_lib
from components.contracts import explanation as explanation_lib
from components.report import writer
from components.contracts import label_balance
from components.contracts import push_record
from models import run_record

DEFAULT_TITLE = 'Slice report: Male and Young per gender x age cohort'


def build_report(evaluation_uri: str, *,
                 statistics=None,
                 model_run_uri: str = '',
                 pushed_model=None,
                 explanation_uri: str = '',
                 title: str = DEFAULT_TITLE,
                 note: str = '') -> content_lib.ReportContent:
  """The report of one pipeline run, from its artifacts."""
  return content_lib.for_run(
      evaluation_uri, title=title, note=note,
      training=run_record.read(model_run_uri),
      push=(push_record.read(pushed_model) if pushed_model is not None
            else None),
      balance=(label_balance.read_balance(statistics)
               if statistics is not None else None),
      explanation=explanation_lib.load(explanation_uri))


# Hashed into the cache key (see SliceReport's code_digest).
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


@component
def SliceReport(  # pylint: disable=invalid-name
    evaluation: InputArtifact[standard_artifacts.ModelEvaluation],
    statistics: InputArtifact[standard_artifacts.ExampleStatistics],
    report: OutputArtifact[artifacts.SliceReport],
    model_run: InputArtifact[standard_artifacts.ModelRun] = None,
    pushed_model: InputArtifact[standard_artifacts.PushedModel] = None,
    explanation: InputArtifact[artifacts.ModelExplanation] = None,
    title: Parameter[str] = DEFAULT_TITLE,
    note: Parameter[str] = '',
    code_digest: Parameter[str] = ''):
  """Writes report.html, report.md and report.json for this run.

  `code_digest` (of this package's source) is only part of the cache key: a
  python-function component's code is not fingerprinted by TFX, so without it
  an edited report would be served from the cache.
  """
  del code_digest
  content = build_report(
      evaluation.uri, statistics=statistics,
      model_run_uri=model_run.uri if model_run is not None else '',
      pushed_model=pushed_model,
      explanation_uri=explanation.uri if explanation is not None else '',
      title=title, note=note)
  files = writer.write(content, report.uri)
  subject = content.subject
  report.set_string_custom_property('kind', content.kind)
  report.set_string_custom_property('html', os.path.basename(files.html))
  if subject.verdict is not None and subject.verdict.blessed is not None:
    report.set_int_custom_property('blessed', int(subject.verdict.blessed))
  for output in content.outputs():
    worst = subject.worst_cohort(output)
    if worst is not None:
      report.set_string_custom_property(
          f'worst_cohort_{output}', er.slice_name(worst))
  logging.info('Slice report: %s', files.html)
