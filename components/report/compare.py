"""Model A against model B: the slice report of two evaluations side by side.

Choosing a loss means comparing, e.g., plain BCE with class-weighted BCE.
Each loss is one pipeline run; this module turns the two runs' Evaluator
outputs into one
report with A as the reference and B as the subject, through the same content
and renderers as the in-pipeline report (content.comparison), so a comparison
reads exactly like a 'baseline vs candidate' report.
"""

import dataclasses
import os
import re
from typing import List, Optional, Sequence

from components.report import content as content_lib
from components.contracts import explanation as explanation_lib
from components.report import runs
from components.report import writer
from components.celeba import local_data
from components.contracts import local_layout
from components.contracts import run_results
from components.contracts import label_balance
from models import run_record


@dataclasses.dataclass
class ComparisonResult:
  report: content_lib.ReportContent
  files: writer.ReportFiles
  runs: List[runs.RunArtifacts]


def resolve(ref: str, metadata_path: Optional[str],
            pipeline_name: Optional[str]) -> runs.RunArtifacts:
  """A run's artifacts from an Evaluator folder, a run id or an index."""
  if runs.is_evaluation_path(ref):
    return runs.for_evaluation_path(ref, metadata_path)
  if os.path.sep in ref or ref.startswith('.'):
    raise FileNotFoundError(f'{ref!r} is not an Evaluator output folder '
                            '(no metrics or eval_config.json in it)')
  metadata_path = metadata_path or local_layout.local_paths().metadata_path
  if not os.path.isfile(metadata_path):
    raise FileNotFoundError(f'no MLMD store at {metadata_path}; pass '
                            '--metadata PIPELINE_ROOT/metadata.sqlite')
  store = run_results.connect(metadata_path)
  name = runs.default_pipeline_name(store, pipeline_name)
  return runs.run_artifacts(store, name,
                            runs.resolve_run_id(store, name, ref))


def model_result(run: runs.RunArtifacts, name: str
                 ) -> content_lib.ModelResult:
  return content_lib.model_from_evaluation(
      run.evaluation_uri, name, run_id=run.run_id,
      training=run_record.read(run.model_run_uri),
      push=run.push,
      balance=(label_balance.read_balance(run.statistics)
               if run.statistics is not None else None),
      explanation=explanation_lib.load(run.explanation_uri))


def _slug(run: runs.RunArtifacts) -> str:
  """'20261128T044500' for run '2026-11-28T04:45:00.960220'."""
  if run.run_id:
    return re.sub(r'[^A-Za-z0-9]+', '', run.run_id.split('.')[0]) or 'run'
  return 'evaluation' + re.sub(
      r'[^A-Za-z0-9]+', '', os.path.basename(os.path.normpath(
          run.evaluation_uri)))


def default_output_dir(a: runs.RunArtifacts, b: runs.RunArtifacts) -> str:
  """<output root of B>/reports/compare-<A>-vs-<B>, beside B's pipeline root."""
  metadata_path = runs.find_metadata(b.evaluation_uri)
  root = (os.path.dirname(os.path.dirname(metadata_path)) if metadata_path
          else local_layout.DEFAULT_OUTPUT_ROOT)
  return os.path.join(root, 'reports', f'compare-{_slug(a)}-vs-{_slug(b)}')


def compare(ref_a: str, ref_b: str, *,
            metadata: Sequence[str] = (),
            pipeline_name: Optional[str] = None,
            names: Sequence[str] = ('A', 'B'),
            output_dir: Optional[str] = None,
            title: Optional[str] = None,
            note: Optional[str] = None) -> ComparisonResult:
  """Writes the A-vs-B report; `metadata` holds one store or one per model."""
  if len(metadata) > 2:
    raise ValueError('give --metadata once (both runs) or twice (A, then B)')
  stores = list(metadata) * (2 if len(metadata) == 1 else 1) or [None, None]
  run_a = resolve(ref_a, stores[0], pipeline_name)
  run_b = resolve(ref_b, stores[1], pipeline_name)
  if (os.path.realpath(run_a.evaluation_uri) ==
      os.path.realpath(run_b.evaluation_uri)):
    raise ValueError(
        f'A ({ref_a}) and B ({ref_b}) are the same evaluation, '
        f'{run_a.evaluation_uri}: a run whose Evaluator was cached reuses '
        'the evaluation of the run before it, so every change would be '
        '+0.0; compare two runs that trained different models')
  a, b = model_result(run_a, names[0]), model_result(run_b, names[1])
  if note is None:
    note = (local_data.GENERATED_NOTE
            if run_a.generated_data or run_b.generated_data else '')
  title = title or (f'Model comparison: {a.name} ({a.description or "?"}) '
                    f'vs {b.name} ({b.description or "?"})')
  report = content_lib.comparison(a, b, title=title, note=note)
  files = writer.write(report,
                       output_dir or default_output_dir(run_a, run_b))
  return ComparisonResult(report=report, files=files, runs=[run_a, run_b])
