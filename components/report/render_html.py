"""The report as one self-contained HTML page.

Everything the page shows is inside the file: the stylesheet is inline, the
plots are PNGs embedded as base64 data URIs, and there is no script and no
external reference, so it opens from disk, from an artifact store download or
as an e-mail attachment, offline, in any browser. Each number sits in a cell
that also carries its exact value and identity as data attributes
(data-output, data-slice, data-metric, data-model, data-value, and
data-lower / data-upper for TFMA's interval bounds as written), so tools and
tests can read the page back.
"""

import base64
import html
import math
from typing import Dict, List, Optional

from components.report import content as content_lib
from components.report import plots
from components.report import tables as tables_lib

_STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
       margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
.table { overflow-x: auto; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left;
         overflow-wrap: break-word; }
th { background: #f3f3f3; white-space: nowrap; }
td.path { word-break: break-all; font-size: 0.85em; max-width: 28em; }
.ci { color: #666; font-size: 0.85em; white-space: nowrap; }
table.wide { font-size: 0.8em; }
table.wide td { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
caption { caption-side: bottom; text-align: left; color: #555;
          font-size: 0.85em; padding-top: 0.3em; }
.pass { color: #1a7f37; font-weight: 600; }
.fail { color: #b42318; font-weight: 600; }
.better { color: #1a7f37; }
.worse { color: #b42318; }
.worst { background: #fde7e4; font-weight: 600; }
.banner { padding: 0.8em 1em; border-radius: 6px; margin: 1em 0;
          font-size: 1.1em; }
.blessed { background: #e6f4ea; border: 1px solid #1a7f37; }
.not-blessed { background: #fde7e4; border: 1px solid #b42318; }
.note { background: #fff8e1; border: 1px solid #e0b000; padding: 0.6em 1em;
        border-radius: 6px; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
nav ul { columns: 2; }
.grids { display: flex; flex-wrap: wrap; gap: 1.5em; }
"""


def _esc(text: str) -> str:
  return html.escape(str(text), quote=True)


def _img(png: bytes, alt: str) -> str:
  data = base64.b64encode(png).decode('ascii')
  return f'<img src="data:image/png;base64,{data}" alt="{_esc(alt)}">'


def figure(png: Optional[bytes], alt: str, caption: str = '') -> str:
  if png is None:
    return f'<p class="fail">Figure missing: {_esc(alt)}</p>'
  cap = f'<figcaption>{_esc(caption)}</figcaption>' if caption else ''
  return f'<figure>{_img(png, alt)}{cap}</figure>'


def _cell(cell: tables_lib.Cell) -> str:
  attrs: Dict[str, str] = {}
  classes = [cell.css] if cell.css else []
  if cell.value is not None:
    classes.append('num')
    value = float(cell.value)
    attrs.update({
        'data-output': cell.output, 'data-slice': cell.slice_name,
        'data-metric': cell.metric, 'data-model': cell.model,
        'data-value': _number(value)})
    if cell.lower is not None:
      attrs.update({'data-lower': _number(cell.lower),
                    'data-upper': _number(cell.upper)})
  if classes:
    attrs['class'] = ' '.join(classes)
  rendered = ''.join(f' {k}="{_esc(v)}"' for k, v in attrs.items())
  interval = (f' <span class="ci">{_esc(cell.interval_text)}</span>'
              if cell.interval_text else '')
  return f'<td{rendered}>{_esc(cell.text)}{interval}</td>'


def _number(value: float) -> str:
  return 'nan' if math.isnan(value) else repr(float(value))


def table(t: tables_lib.Table, css: str = '') -> str:
  head = ''.join(f'<th>{_esc(h)}</th>' for h in t.header)
  body = '\n'.join('<tr>' + ''.join(_cell(c) for c in row) + '</tr>'
                   for row in t.rows)
  caption = f'<caption>{_esc(t.caption)}</caption>' if t.caption else ''
  klass = f' class="{_esc(css)}"' if css else ''
  # A table with a column per threshold or per model can be wider than the
  # page; it scrolls in its own box rather than widening the page.
  return (f'<div class="table"><table{klass}>{caption}<thead><tr>{head}</tr>'
          f'</thead><tbody>\n{body}\n</tbody></table></div>')


def _section(title: str, body: List[str]) -> str:
  anchor = title.lower().replace(' ', '-')
  return f'<section id="{_esc(anchor)}"><h2>{_esc(title)}</h2>\n' + \
      '\n'.join(body) + '\n</section>'


def _list(lines: List[str]) -> str:
  return '<ul>' + ''.join(f'<li>{_esc(line)}</li>' for line in lines) + \
      '</ul>'


def _banner(report: content_lib.ReportContent) -> str:
  subject = report.subject
  verdict = tables_lib.verdict_text(subject)
  css = ('blessed' if subject.verdict and subject.verdict.blessed else
         'not-blessed')
  text = f'{subject.name}: {verdict}'
  if subject.push is not None:
    text += f' \u2014 {tables_lib.push_text(subject)}'
  return f'<div class="banner {css}"><strong>{_esc(text)}</strong></div>'


def render(report: content_lib.ReportContent) -> str:
  sections = []

  body = [_list(tables_lib.verdict_lines(report))]
  for model in report.models:
    if model.verdict is None:
      continue
    thresholds = tables_lib.thresholds_table(model)
    body.append(table(thresholds) if thresholds.rows else
                f'<p>{_esc(model.name)}: no thresholds recorded.</p>')
  sections.append(_section(content_lib.SECTION_VERDICT, body))

  models = [table(tables_lib.models_table(report))]
  if report.compared:
    models.append(
        f'<p>{_esc(tables_lib.change_note(report, colours=True))}</p>')
  sections.append(_section(content_lib.SECTION_MODELS, models))

  body = []
  groups = tables_lib.balance_tables(report)
  for group in groups:
    body.append(f'<p>Data of {_esc(", ".join(group["models"]))} '
                '(from StatisticsGen):</p>')
    body.append(table(group['table']))
    body.append(figure(plots.balance_figure(group['balance']),
                       'label balance per split'))
  if not groups:
    body.append('<p>Not recorded for these models.</p>')
  sections.append(_section(content_lib.SECTION_BALANCE, body))

  legend = report.interval_legend()
  sections.append(_section(content_lib.SECTION_ACCURACY, [
      _list(tables_lib.worst_cohort_lines(report)),
      _list(tables_lib.gap_lines(report)),
      f'<p class="note">{_esc(legend)}</p>' if legend else
      '<p>No confidence intervals in this evaluation.</p>',
      table(tables_lib.accuracy_table(report)),
      figure(plots.accuracy_figure(report), 'accuracy per cohort',
             'Bars start near the lowest value, not at 0%, so that '
             'differences of a few points show; error bars are the 95% '
             'intervals.')]))

  body = []
  for output in report.outputs():
    body.append(f'<h3>{_esc(output)}</h3>')
    body.append('<div class="grids">' + ''.join(
        table(t) for t in tables_lib.heatmap_tables(report, output)) +
                '</div>')
    body.append(figure(plots.heatmap_figure(report, output),
                       f'{output} accuracy heatmap'))
  sections.append(_section(content_lib.SECTION_HEATMAPS, body))

  body = [table(tables_lib.confusion_table(report))]
  for output in report.outputs():
    body.append(figure(
        plots.confusion_figure(report, output),
        f'{output} confusion matrix by {content_lib.other_label(output)}'))
  sections.append(_section(content_lib.SECTION_CONFUSION, body))

  sections.append(_section(content_lib.SECTION_ERROR_RATES, [
      table(tables_lib.error_rates_table(report)),
      figure(plots.error_rates_figure(report), 'FPR and FNR per cohort')]))

  body = []
  for model in report.models:
    if not model.has_sweeps:
      body.append(f'<p>{_esc(model.name)}: its evaluation has no threshold '
                  'sweep.</p>')
      continue
    for output in report.outputs():
      body.append(f'<h3>{_esc(output)} ({_esc(model.name)})</h3>')
      body.append(figure(plots.threshold_figure(model, output),
                         f'{output} FPR and FNR across thresholds, '
                         f'{model.name}', tables_lib.threshold_caption(
                             model, output)))
      body.append(table(tables_lib.sweep_table(model, output), 'wide'))
  sections.append(_section(content_lib.SECTION_THRESHOLDS, body))

  sections.append(_section(content_lib.SECTION_DISCOVERY, [
      table(tables_lib.discovery_table(report))]))

  weights = tables_lib.class_weights_table(report)
  sections.append(_section(content_lib.SECTION_TRAINING, [
      table(weights) if weights else '<p>Not recorded for these models.</p>']))

  sections.append(_section(content_lib.SECTION_ALL_METRICS,
                           [table(tables_lib.all_metrics_table(report),
                                  'wide')]))

  body = []
  for model in report.models:
    if model.explanation is None:
      continue
    body.append(f'<p>{_esc(model.name)}: explanation of '
                f'{_esc(model.explanation.model_uri)} '
                f'({model.explanation.seconds:.0f} s).</p>')
    for section in model.explanation.sections():
      body.append(f'<h3>{_esc(section)} ({_esc(model.name)})</h3>')
      for f in model.explanation.in_section(section):
        body.append(figure(f.png, f.title, f'{f.title}: {f.caption}'))
  if not body:
    body.append('<p>No explanation artifact for these models.</p>')
  sections.append(_section(content_lib.SECTION_EXPLANATION, body))

  nav = '<nav><ul>' + ''.join(
      f'<li><a href="#{_esc(t.lower().replace(" ", "-"))}">{_esc(t)}</a></li>'
      for t in content_lib.SECTIONS) + '</ul></nav>'
  note = f'<p class="note">{_esc(report.note)}</p>' if report.note else ''
  return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
          f'<meta name="viewport" content="width=device-width">'
          f'<title>{_esc(report.title)}</title><style>{_STYLE}</style>'
          f'</head><body>\n<h1>{_esc(report.title)}</h1>\n{note}\n'
          f'{_banner(report)}\n{nav}\n' + '\n'.join(sections) +
          '\n</body></html>\n')
