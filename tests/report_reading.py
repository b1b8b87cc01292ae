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
from components.report import content as content_lib
from models import features
from components.contracts import metric_names

# (output, slice name, metric, model) -> value
NumberKey = Tuple[str, str, str, str]


class _NumberCells(html.parser.HTMLParser):
  """Collects <td data-value=...> cells, their text, <h2> titles and <img>s."""

  def __init__(self):
    super().__init__()
    self.numbers: Dict[NumberKey, List[Tuple[float, str]]] = {}
    self.headings: List[str] = []
    self.images: List[Dict[str, str]] = []
    self.scripts = 0
    self._cell: Optional[Tuple[NumberKey, float]] = None
    self._text: List[str] = []
    self._in_h2 = False

  def handle_starttag(self, tag, attrs):
    attrs = dict(attrs)
    if tag == 'td' and 'data-value' in attrs:
      value = attrs['data-value']
      self._cell = ((attrs['data-output'], attrs['data-slice'],
                     attrs['data-metric'], attrs['data-model']),
                    math.nan if value == 'nan' else float(value))
      self._text = []
    elif tag == 'h2':
      self._in_h2, self._text = True, []
    elif tag == 'img':
      self.images.append(attrs)
    elif tag == 'script':
      self.scripts += 1

  def handle_data(self, data):
    if self._cell is not None or self._in_h2:
      self._text.append(data)

  def handle_endtag(self, tag):
    if tag == 'td' and self._cell is not None:
      key, value = self._cell
      self.numbers.setdefault(key, []).append((value, ''.join(self._text)))
      self._cell = None
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
  """Plausible per-slice metrics for both outputs (unit tests only)."""
  import random  # pylint: disable=g-import-not-at-top
  rng = random.Random(seed)
  result = {}
  for key in content_lib.ALL_SLICES:
    result[key] = {}
    for output in features.LABEL_KEYS:
      tp, fp, tn, fn = (rng.randint(5, 60) for _ in range(4))
      n = tp + fp + tn + fn
      values = {metric_names.ACCURACY: (tp + tn) / n,
                metric_names.FALSE_POSITIVE_RATE: fp / (fp + tn),
                metric_names.FALSE_NEGATIVE_RATE: fn / (fn + tp),
                metric_names.AUC: rng.uniform(0.6, 0.99),
                metric_names.PRECISION: tp / (tp + fp),
                metric_names.RECALL: tp / (tp + fn),
                metric_names.CROSS_ENTROPY: rng.uniform(0.1, 0.7),
                metric_names.EXAMPLE_COUNT: float(n)}
      diffs = ({name: rng.uniform(-0.05, 0.05) for name in values}
               if with_diffs else {})
      result[key][output] = er.OutputMetrics(
          values=values, confusion=er.Confusion(tp=tp, fp=fp, tn=tn, fn=fn),
          diffs=diffs)
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
