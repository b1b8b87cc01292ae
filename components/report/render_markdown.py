"""The report as Markdown: the summary a reviewer reads in a PR or terminal.

It carries the verdict, the thresholds, the per-cohort tables with their
95% intervals and the findings; the long 'all metrics' table and the plots
stay in the HTML.
"""

from typing import List

from components.report import content as content_lib
from components.report import tables as tables_lib


def table(t: tables_lib.Table) -> str:
  def escape(text: str) -> str:
    return text.replace('|', '\\|').replace('\n', ' ')
  lines = ['| ' + ' | '.join(escape(h) for h in t.header) + ' |',
           '|' + '---|' * len(t.header)]
  for row in t.rows:
    lines.append('| ' + ' | '.join(
        f'**{escape(c.full_text)}**' if c.css in ('worst', 'fail') else
        escape(c.full_text) for c in row) + ' |')
  if t.caption:
    lines += ['', f'_{t.caption}_']
  return '\n'.join(lines)


def render(report: content_lib.ReportContent) -> str:
  out: List[str] = [f'# {report.title}', '']
  if report.note:
    out += [f'> {report.note}', '']

  out += [f'## {content_lib.SECTION_VERDICT}', '']
  out += [f'- {line}' for line in tables_lib.verdict_lines(report)] + ['']
  for model in report.models:
    if model.verdict is None:
      continue
    thresholds = tables_lib.thresholds_table(model)
    out += [table(thresholds) if thresholds.rows else
            f'{model.name}: no thresholds recorded.', '']

  out += [f'## {content_lib.SECTION_MODELS}', '',
          table(tables_lib.models_table(report)), '']
  if report.compared:
    out += [tables_lib.change_note(report), '']

  out += [f'## {content_lib.SECTION_BALANCE}', '']
  groups = tables_lib.balance_tables(report)
  if not groups:
    out += ['Not recorded for these models.', '']
  for group in groups:
    out += [f'Data of {", ".join(group["models"])} (from StatisticsGen):', '',
            table(group['table']), '']

  out += [f'## {content_lib.SECTION_ACCURACY}', '']
  legend = report.interval_legend()
  out += [legend or 'No confidence intervals in this evaluation.', '',
          table(tables_lib.accuracy_table(report)), '']
  out += [f'- {line}' for line in tables_lib.worst_cohort_lines(report)]
  out += [f'- {line}' for line in tables_lib.gap_lines(report)]
  out += ['']

  out += [f'## {content_lib.SECTION_HEATMAPS}', '']
  for output in report.outputs():
    for t in tables_lib.heatmap_tables(report, output):
      out += [table(t), '']

  out += [f'## {content_lib.SECTION_CONFUSION}', '',
          table(tables_lib.confusion_table(report)), '']

  out += [f'## {content_lib.SECTION_ERROR_RATES}', '',
          table(tables_lib.error_rates_table(report)), '']

  out += [f'## {content_lib.SECTION_THRESHOLDS}', '']
  for model in report.models:
    if not model.has_sweeps:
      out += [f'{model.name}: its evaluation has no threshold sweep.', '']
      continue
    for output in report.outputs():
      out += [f'### {output} ({model.name})', '',
              tables_lib.threshold_caption(model, output), '',
              table(tables_lib.sweep_table(model, output)), '']

  out += [f'## {content_lib.SECTION_DISCOVERY}', '',
          table(tables_lib.discovery_table(report)), '']

  out += [f'## {content_lib.SECTION_TRAINING}', '']
  weights = tables_lib.class_weights_table(report)
  out += [table(weights) if weights else 'Not recorded for these models.', '']

  out += [f'## {content_lib.SECTION_ALL_METRICS}', '',
          'Every metric per slice, side by side, is in report.html and '
          'report.json.', '']

  out += [f'## {content_lib.SECTION_EXPLANATION}', '']
  explained = False
  for model in report.models:
    if model.explanation is None:
      continue
    explained = True
    for section in model.explanation.sections():
      out.append(f'- {model.name}, {section}: ' + '; '.join(
          f.title for f in model.explanation.in_section(section)))
  if not explained:
    out.append('No explanation artifact for these models.')
  out.append('')
  return '\n'.join(out)
