"""Reading a slice report back, and made-up inputs to write one from.

The unit and end-to-end tests share one way of reading a report: the HTML's
data attributes, the Markdown tables and report.json are parsed
independently of the code that wrote them.
"""

import html.parser
import json
import math
import os
from typing import Dict, List, Optional, Tuple

from components.contracts import evaluation as er
from components.contracts import explanation
from components.contracts import metric_names

# (output, slice name, metric, model) -> value
NumberKey = Tuple[str, str, str, str]


def _float(text: str) -> float:
  return math.nan if text == 'nan' else float(text)


class _NumberCells(html.parser.HTMLParser):
  """Collects <td data-value=...> cells, their text, <h2> titles and <img>s.

  `numbers` maps a cell's identity to (value, text) per occurrence, the text
  without the interval; `intervals` to (lower, upper, interval text) for the
  cells that carry one (data-lower / data-upper and a span.ci).
  """

  def __init__(self):
    super().__init__()
    self.numbers: Dict[NumberKey, List[Tuple[float, str]]] = {}
    self.intervals: Dict[NumberKey, List[Tuple[float, float, str]]] = {}
    self.headings: List[str] = []
    self.images: List[Dict[str, str]] = []
    self.scripts = 0
    self._cell: Optional[Tuple[NumberKey, float]] = None
    self._bounds: Optional[Tuple[float, float]] = None
    self._text: List[str] = []
    self._ci: Optional[List[str]] = None
    self._in_ci = False
    self._in_h2 = False

  def handle_starttag(self, tag, attrs):
    attrs = dict(attrs)
    if tag == 'td' and 'data-value' in attrs:
      self._cell = ((attrs['data-output'], attrs['data-slice'],
                     attrs['data-metric'], attrs['data-model']),
                    _float(attrs['data-value']))
      self._bounds = ((_float(attrs['data-lower']),
                       _float(attrs['data-upper']))
                      if 'data-lower' in attrs else None)
      self._text, self._ci = [], None
    elif tag == 'span' and self._cell is not None and attrs.get(
        'class') == 'ci':
      self._ci, self._in_ci = [], True
    elif tag == 'h2':
      self._in_h2, self._text = True, []
    elif tag == 'img':
      self.images.append(attrs)
    elif tag == 'script':
      self.scripts += 1

  def handle_data(self, data):
    if self._ci is not None and self._in_ci:
      self._ci.append(data)
    elif self._cell is not None or self._in_h2:
      self._text.append(data)

  def handle_endtag(self, tag):
    if tag == 'td' and self._cell is not None:
      key, value = self._cell
      self.numbers.setdefault(key, []).append(
          (value, ''.join(self._text).strip()))
      if self._bounds is not None:
        self.intervals.setdefault(key, []).append(
            self._bounds + (''.join(self._ci or []),))
      self._cell, self._ci = None, None
    elif tag == 'span' and self._in_ci:
      self._in_ci = False
    elif tag == 'h2' and self._in_h2:
      self.headings.append(''.join(self._text))
      self._in_h2 = False


def parse_html(text: str) -> _NumberCells:
  parser = _NumberCells()
  parser.feed(text)
  return parser


def markdown_headings(text: str) -> List[str]:
  return [line[3:].strip() for line in text.splitlines()
          if line.startswith('## ')]


def markdown_tables(text: str) -> List[List[List[str]]]:
  """Every pipe table as rows of cell texts (header first, rule dropped)."""
  tables, current = [], []
  for line in text.splitlines():
    if line.startswith('|'):
      cells = [c.strip().strip('*') for c in line.strip('|').split(' | ')]
      if not all(set(c) <= {'-', '|'} for c in cells):
        current.append(cells)
    elif current:
      tables.append(current)
      current = []
  if current:
    tables.append(current)
  return tables


def same(a: float, b: float, tol: float = 0.0) -> bool:
  if a is None or b is None:
    return (a is None or (isinstance(a, float) and math.isnan(a))) and (
        b is None or (isinstance(b, float) and math.isnan(b)))
  if math.isnan(a) or math.isnan(b):
    return math.isnan(a) and math.isnan(b)
  return abs(a - b) <= tol


def load_json(folder: str) -> Dict:
  with open(os.path.join(folder, 'report.json')) as f:
    return json.load(f)


# ------------------------------------------------------------- fake data


def fake_metrics(seed: int = 0, with_diffs: bool = False
                 ) -> Dict[er.SliceKey, Dict[str, er.OutputMetrics]]:
  """Per-slice metrics of made-up predictions, with intervals and sweeps, as
  the evaluation reader returns them (unit tests only)."""
  import random  # pylint: disable=g-import-not-at-top
  from tests import evaluator_outputs  # pylint: disable=g-import-not-at-top
  result = evaluator_outputs.metrics_of(
      evaluator_outputs.fake_data(seed=seed), seed=seed)
  rng = random.Random(seed)
  for by_output in result.values():
    for entry in by_output.values():
      entry.values[metric_names.AUC] = (
          math.nan if entry.values[metric_names.AUC] == 0.0 else
          entry.values[metric_names.AUC])
      if with_diffs:
        entry.diffs = {name: rng.uniform(-0.05, 0.05)
                       for name in entry.values}
  return result


def write_fake_explanation(folder: str) -> Dict:
  """An explanation folder written through the contract, with real PNGs."""
  from matplotlib.figure import Figure  # pylint: disable=g-import-not-at-top
  from components.report import plots  # pylint: disable=g-import-not-at-top
  os.makedirs(os.path.join(folder, 'figures'), exist_ok=True)
  figures = []
  for i, (section, title) in enumerate((
      (explanation.LATENT_SPACE, 'UMAP of the embeddings by cohort'),
      (explanation.SALIENCY, 'Integrated gradients, Non-Young x Female'),
      (explanation.SALIENCY, 'Grad-CAM, Young x Male'))):
    fig = Figure(figsize=(2 + i, 2))
    ax = fig.subplots()
    ax.plot([0, 1, 2], [i, 2 * i, 1])
    ax.set_title(title)
    name = f'figures/figure_{i}.png'
    with open(os.path.join(folder, name), 'wb') as f:
      f.write(plots.to_png(fig))
    figures.append(explanation.FigureEntry(
        file=name, section=section, title=title, caption=f'caption {i}'))
  return explanation.write(folder, model_uri='/models/candidate', pushed=True,
                           figures=figures, seconds=12.5)
