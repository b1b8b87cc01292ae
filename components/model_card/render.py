"""model_card.md and model_card.html, rendered from the card itself.

Both renderings walk the card dict that model_card.json holds, so the three
files cannot disagree. The HTML is self-contained like the slice report: an
inline stylesheet, the card's graphics as base64 data URIs, no script and no
external reference. Each metric cell carries its identity and TFMA's exact
value and bounds as data attributes (data-output, data-slice, data-metric,
data-model, data-threshold, data-value, data-lower, data-upper, as in the
slice report) for tools and tests.
Intervals are clipped to the metric's range for display only, and a
zero-width one reads '[n/e]' (not estimable), as in the slice report.
"""

import html
from typing import Any, Dict, List, Optional, Tuple

from components.contracts import evaluation as er
from components.contracts import metric_names
from components.contracts import model_card as card_contract
from components.model_card import content as card_content
from components.report import content as report_content
from models import features

TITLE_PREFIX = 'Model card: '

# Section titles, shared by the Markdown and HTML renderings and the tests.
SECTION_DETAILS = 'Model details'
SECTION_PARAMETERS = 'Model parameters'
SECTION_DATA = 'Data'
SECTION_PERFORMANCE = 'Performance per output and cohort'
SECTION_THRESHOLDS = 'FPR and FNR across thresholds'
SECTION_GRAPHICS = 'Graphics'
SECTION_CONSIDERATIONS = 'Considerations'
SECTIONS = (SECTION_DETAILS, SECTION_PARAMETERS, SECTION_DATA,
            SECTION_PERFORMANCE, SECTION_THRESHOLDS, SECTION_GRAPHICS,
            SECTION_CONSIDERATIONS)

_SCALAR_COLUMNS = tuple(m for m in card_content.CARD_METRICS
                        if m != metric_names.EXAMPLE_COUNT)

LEGEND = ('Values are TFMA\'s point estimates on the test split; in brackets '
          'its 95% interval, in points for rates, clipped to the metric\'s '
          'range for display (model_card.json keeps TFMA\'s bounds). [n/e]: '
          'not estimable (no spread among the samples, e.g. no errors), which '
          'is not certainty. A dash: the metric says nothing on that slice '
          '(its label is fixed there) or is undefined.')


def _rows(card: Dict[str, Any]):
  """(output, slice) -> metric -> [(threshold, entry)], in the card's order."""
  table: Dict[Tuple[str, str], Dict[str, List[Tuple[Optional[float],
                                                     Dict[str, Any]]]]] = {}
  for entry in card['quantitative_analysis'].get('performance_metrics', []):
    output, metric, threshold = card_contract.parse_metric_type(entry['type'])
    table.setdefault((output, entry.get('slice', '')), {}).setdefault(
        metric, []).append((threshold, entry))
  return table


def _interval(entry: Dict[str, Any]) -> Optional[er.Interval]:
  bounds = entry.get(card_contract.INTERVAL)
  if bounds is None:
    return None
  return er.Interval(bounds[card_contract.LOWER], bounds[card_contract.UPPER])


def _info(metric: str) -> report_content.MetricInfo:
  return (report_content.SWEEP_INFO.get(metric) or
          report_content.METRIC_INFO[metric])


def value_text(metric: str, entry: Optional[Dict[str, Any]]) -> str:
  """'91.6% [87.5, 95.7]', or '-' for no entry."""
  if entry is None:
    return '-'
  info = _info(metric)
  return (f'{info.fmt(entry["value"])} '
          f'{info.interval_text(_interval(entry))}').strip()


def _slices_of(table, output: str) -> List[str]:
  names = [er.slice_name(k) for k in report_content.ALL_SLICES]
  present = [s for (o, s) in table if o == output]
  return [n for n in names if n in present] + [
      s for s in present if s not in names]


def _thresholds(table, output: str, metric: str) -> List[float]:
  found = sorted({t for (o, _), by_metric in table.items() if o == output
                  for t, _ in by_metric.get(metric, []) if t is not None})
  return found


def _considerations_lists(card: Dict[str, Any]
                          ) -> List[Tuple[str, List[str]]]:
  c = card.get('considerations', {})
  uses = [u['description'] for u in c.get('use_cases', [])]
  return [
      ('Intended users', [u['description'] for u in c.get('users', [])]),
      ('Intended uses', [u for u in uses
                         if not u.startswith(card_content.OUT_OF_SCOPE)]),
      ('Out-of-scope uses', [u[len(card_content.OUT_OF_SCOPE):] for u in uses
                             if u.startswith(card_content.OUT_OF_SCOPE)]),
      ('Limitations', [x['description'] for x in c.get('limitations', [])]),
      ('Trade-offs', [x['description'] for x in c.get('tradeoffs', [])]),
  ]


# ----------------------------------------------------------------- Markdown


def _md_table(header: List[str], rows: List[List[str]]) -> List[str]:
  def line(cells):
    return '| ' + ' | '.join(c.replace('|', '\\|') for c in cells) + ' |'
  return [line(header), line(['---'] * len(header))] + [line(r) for r in rows]


def markdown(card: Dict[str, Any]) -> str:
  details = card['model_details']
  params = card['model_parameters']
  lines = [f'# {TITLE_PREFIX}{details["name"]}', '', details['overview'], '',
           f'## {SECTION_DETAILS}', '']
  version = details.get('version', {})
  lines += [f'- Version: {version.get("name", "")} ({version.get("date", "")})',
            f'- {version.get("diff", "")}',
            f'- {details.get("documentation", "")}']
  for lic in details.get('licenses', []):
    lines.append(f'- Licence: {lic.get("identifier") or lic["custom_text"]}')
  for ref in details.get('references', []):
    lines.append(f'- Reference: <{ref["reference"]}>')
  for cit in details.get('citations', []):
    lines.append(f'- Cite: {cit["citation"]}')
  lines += ['', f'## {SECTION_PARAMETERS}', '',
            f'- Architecture: {params.get("model_architecture", "")}',
            f'- Input format: {params.get("input_format", "")}',
            f'- Output format: {params.get("output_format", "")}',
            '', f'## {SECTION_DATA}', '']
  for data in params.get('data', []):
    sensitive = '; '.join(data.get('sensitive', {}).get('sensitive_data', []))
    lines.append(f'- **{data["name"]}**: {data.get("description", "")} '
                 f'Sensitive data: {sensitive}.')
  table = _rows(card)
  lines += ['', f'## {SECTION_PERFORMANCE}', '', LEGEND, '']
  for output in features.LABEL_KEYS:
    slices = _slices_of(table, output)
    if not slices:
      continue
    header = ['slice', 'examples'] + [_info(m).title for m in _SCALAR_COLUMNS]
    rows = []
    for name in slices:
      by_metric = table[(output, name)]
      count = by_metric.get(metric_names.EXAMPLE_COUNT, [(None, None)])[0][1]
      rows.append([name, value_text(metric_names.EXAMPLE_COUNT, count)] + [
          value_text(m, by_metric.get(m, [(None, None)])[0][1])
          for m in _SCALAR_COLUMNS])
    lines += [f'### {output}', ''] + _md_table(header, rows) + ['']
  lines += [f'## {SECTION_THRESHOLDS}', '']
  for output in features.LABEL_KEYS:
    for metric in metric_names.SWEEPS:
      thresholds = _thresholds(table, output, metric)
      if not thresholds:
        continue
      rows = []
      for name in _slices_of(table, output):
        by_t = dict(table[(output, name)].get(metric, []))
        if by_t:
          rows.append([name] + [value_text(metric, by_t.get(t))
                                for t in thresholds])
      lines += [f'### {output}: {_info(metric).title} by threshold', ''] + (
          _md_table(['slice'] + [f'{t:g}' for t in thresholds], rows) + [''])
  graphics = card['quantitative_analysis'].get('graphics', {})
  lines += [f'## {SECTION_GRAPHICS}', '', graphics.get('description', ''), '',
            'Embedded as base64 PNG in model_card.json and model_card.html:',
            ''] + [f'- {g["name"]}' for g in graphics.get('collection', [])]
  lines += ['', f'## {SECTION_CONSIDERATIONS}', '']
  for title, items in _considerations_lists(card):
    lines += [f'### {title}', ''] + [f'- {i}' for i in items] + ['']
  lines += ['### Ethical considerations', '']
  for risk in card.get('considerations', {}).get('ethical_considerations', []):
    lines += [f'- **Risk:** {risk["name"]}',
              f'  **Mitigation:** {risk["mitigation_strategy"]}']
  lines += ['', f'*Schema: Model Card Toolkit v{card["schema_version"]}; '
            'TFMA\'s 95% intervals are an extension of each performance '
            f'metric (`{card_contract.INTERVAL}`).*', '']
  return '\n'.join(lines)


# --------------------------------------------------------------------- HTML

_STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
       margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
.table { overflow-x: auto; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; }
th { background: #f3f3f3; white-space: nowrap; }
table.metrics td:first-child { white-space: nowrap; }
td { vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums;
         white-space: nowrap; }
.ci { color: #666; font-size: 0.85em; }
.overview { font-size: 1.1em; }
.note { background: #fff8e1; border: 1px solid #e0b000; padding: 0.6em 1em;
        border-radius: 6px; }
.legend { color: #555; font-size: 0.85em; max-width: 60em; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
dt { font-weight: 600; margin-top: 0.5em; }
"""


def _esc(text: Any) -> str:
  return html.escape(str(text), quote=True)


def _cell(output: str, slice_name: str, metric: str,
          threshold: Optional[float], entry: Optional[Dict[str, Any]]) -> str:
  if entry is None:
    return '<td class="num">-</td>'
  info = _info(metric)
  attrs = {'data-output': output, 'data-slice': slice_name,
           'data-metric': metric, 'data-model': er.CANDIDATE,
           'data-value': repr(float(entry['value']))}
  if threshold is not None:
    attrs['data-threshold'] = f'{threshold:g}'
  interval = _interval(entry)
  ci = ''
  if interval is not None:
    attrs['data-lower'] = repr(float(interval.lower))
    attrs['data-upper'] = repr(float(interval.upper))
    ci = f' <span class="ci">{_esc(info.interval_text(interval))}</span>'
  attr_text = ' '.join(f'{k}="{_esc(v)}"' for k, v in attrs.items())
  return (f'<td class="num" {attr_text}>{_esc(info.fmt(entry["value"]))}'
          f'{ci}</td>')


def _html_table(header: List[str], rows: List[str], css: str = '') -> str:
  head = ''.join(f'<th>{_esc(h)}</th>' for h in header)
  table = f'<table class="{css}">' if css else '<table>'
  # A table with a column per threshold can be wider than the page; it
  # scrolls in its own box rather than widening the page.
  return (f'<div class="table">{table}<thead><tr>{head}</tr></thead><tbody>'
          + ''.join(rows) + '</tbody></table></div>')


def page(card: Dict[str, Any], data_note: str = '') -> str:
  """The card as one self-contained HTML page."""
  details = card['model_details']
  params = card['model_parameters']
  title = f'{TITLE_PREFIX}{details["name"]}'
  out = [f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
         f'<title>{_esc(title)}</title><style>{_STYLE}</style></head><body>',
         f'<h1>{_esc(title)}</h1>']
  if data_note:
    out.append(f'<p class="note">{_esc(data_note)}</p>')
  out.append(f'<p class="overview">{_esc(details["overview"])}</p>')
  version = details.get('version', {})
  out.append(f'<h2>{SECTION_DETAILS}</h2><dl>'
             f'<dt>Version</dt><dd>{_esc(version.get("name", ""))} '
             f'({_esc(version.get("date", ""))}). '
             f'{_esc(version.get("diff", ""))}</dd>'
             f'<dt>Documentation</dt><dd>'
             f'{_esc(details.get("documentation", ""))}</dd>')
  for lic in details.get('licenses', []):
    out.append(f'<dt>Licence</dt><dd>'
               f'{_esc(lic.get("identifier") or lic["custom_text"])}</dd>')
  refs = ''.join(f'<li>{_esc(r["reference"])}</li>'
                 for r in details.get('references', []))
  cits = ''.join(f'<li>{_esc(c["citation"])}</li>'
                 for c in details.get('citations', []))
  out.append(f'<dt>References</dt><dd><ul>{refs}</ul></dd>'
             f'<dt>Citations</dt><dd><ul>{cits}</ul></dd></dl>')
  out.append(f'<h2>{SECTION_PARAMETERS}</h2><dl>'
             f'<dt>Architecture</dt><dd>'
             f'{_esc(params.get("model_architecture", ""))}</dd>'
             f'<dt>Input format</dt><dd><code>'
             f'{_esc(params.get("input_format", ""))}</code></dd>'
             f'<dt>Output format</dt><dd><code>'
             f'{_esc(params.get("output_format", ""))}</code></dd></dl>')
  out.append(f'<h2>{SECTION_DATA}</h2>')
  rows = []
  for data in params.get('data', []):
    sensitive = '; '.join(data.get('sensitive', {}).get('sensitive_data', []))
    rows.append(f'<tr><td>{_esc(data["name"])}</td>'
                f'<td>{_esc(data.get("description", ""))}</td>'
                f'<td>{_esc(sensitive)}</td></tr>')
  out.append(_html_table(['dataset', 'size and label balance',
                          'sensitive data'], rows))
  table = _rows(card)
  out.append(f'<h2>{SECTION_PERFORMANCE}</h2>'
             f'<p class="legend">{_esc(LEGEND)}</p>')
  for output in features.LABEL_KEYS:
    rows = []
    for name in _slices_of(table, output):
      by_metric = table[(output, name)]
      cells = [f'<td>{_esc(name)}</td>']
      for metric in (metric_names.EXAMPLE_COUNT,) + _SCALAR_COLUMNS:
        entry = by_metric.get(metric, [(None, None)])[0][1]
        cells.append(_cell(output, name, metric, None, entry))
      rows.append('<tr>' + ''.join(cells) + '</tr>')
    if rows:
      out.append(f'<h3>{_esc(output)}</h3>' + _html_table(
          ['slice', 'examples'] + [_info(m).title for m in _SCALAR_COLUMNS],
          rows, 'metrics'))
  out.append(f'<h2>{SECTION_THRESHOLDS}</h2>')
  for output in features.LABEL_KEYS:
    for metric in metric_names.SWEEPS:
      thresholds = _thresholds(table, output, metric)
      if not thresholds:
        continue
      rows = []
      for name in _slices_of(table, output):
        by_t = dict(table[(output, name)].get(metric, []))
        if by_t:
          rows.append('<tr>' + f'<td>{_esc(name)}</td>' + ''.join(
              _cell(output, name, metric, t, by_t.get(t))
              for t in thresholds) + '</tr>')
      out.append(f'<h3>{_esc(output)}: {_esc(_info(metric).title)} by '
                 'threshold</h3>' + _html_table(
                     ['slice'] + [f'{t:g}' for t in thresholds], rows,
                     'metrics'))
  graphics = card['quantitative_analysis'].get('graphics', {})
  out.append(f'<h2>{SECTION_GRAPHICS}</h2>'
             f'<p>{_esc(graphics.get("description", ""))}</p>')
  for graphic in graphics.get('collection', []):
    out.append(f'<figure><img src="data:image/png;base64,{graphic["image"]}"'
               f' alt="{_esc(graphic["name"])}"><figcaption>'
               f'{_esc(graphic["name"])}</figcaption></figure>')
  out.append(f'<h2>{SECTION_CONSIDERATIONS}</h2>')
  for title, items in _considerations_lists(card):
    out.append(f'<h3>{_esc(title)}</h3><ul>'
               + ''.join(f'<li>{_esc(i)}</li>' for i in items) + '</ul>')
  risks = ''.join(
      f'<tr><td>{_esc(r["name"])}</td>'
      f'<td>{_esc(r["mitigation_strategy"])}</td></tr>'
      for r in card.get('considerations', {}).get('ethical_considerations',
                                                  []))
  out.append('<h3>Ethical considerations</h3>'
             + _html_table(['risk', 'mitigation'], [risks]))
  out.append(f'<p class="legend">Schema: Model Card Toolkit '
             f'v{_esc(card["schema_version"])}; TFMA\'s 95% intervals are an '
             f'extension of each performance metric '
             f'(<code>{card_contract.INTERVAL}</code>).</p></body></html>')
  return '\n'.join(out)
