"""Test helpers for the slice report: read numbers back, open it in Chromium.

Kept in the package (like components.celeba.testing) so the unit and
end-to-end tests share one way of reading a report: the HTML's data
attributes, the Markdown tables and report.json are parsed independently of
the code that wrote them.
"""

import dataclasses
import html.parser
import json
import math
import os
import shutil
import subprocess
import tempfile
from typing import Dict, List, Optional, Tuple

from components import evaluation_results as er
from components.report import content as content_lib
from models import features
from pipeline import eval_config

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
      values = {eval_config.ACCURACY: (tp + tn) / n,
                eval_config.FALSE_POSITIVE_RATE: fp / (fp + tn),
                eval_config.FALSE_NEGATIVE_RATE: fn / (fn + tp),
                eval_config.AUC: rng.uniform(0.6, 0.99),
                eval_config.PRECISION: tp / (tp + fp),
                eval_config.RECALL: tp / (tp + fn),
                eval_config.CROSS_ENTROPY: rng.uniform(0.1, 0.7),
                eval_config.EXAMPLE_COUNT: float(n)}
      diffs = ({name: rng.uniform(-0.05, 0.05) for name in values}
               if with_diffs else {})
      result[key][output] = er.OutputMetrics(
          values=values, confusion=er.Confusion(tp=tp, fp=fp, tn=tn, fn=fn),
          diffs=diffs)
  return result


def write_fake_explanation(folder: str) -> Dict:
  """An explanation folder following the issue-6 contract, with real PNGs."""
  from matplotlib.figure import Figure  # pylint: disable=g-import-not-at-top
  from components.report import plots  # pylint: disable=g-import-not-at-top
  os.makedirs(os.path.join(folder, 'figures'), exist_ok=True)
  figures = []
  for i, (section, title) in enumerate((
      ('Latent space', 'UMAP of the embeddings by cohort'),
      ('Saliency', 'Integrated gradients, Non-Young x Female'),
      ('Saliency', 'Grad-CAM, Young x Male'))):
    fig = Figure(figsize=(2 + i, 2))
    ax = fig.subplots()
    ax.plot([0, 1, 2], [i, 2 * i, 1])
    ax.set_title(title)
    name = f'figures/figure_{i}.png'
    with open(os.path.join(folder, name), 'wb') as f:
      f.write(plots.to_png(fig))
    figures.append({'file': name, 'section': section, 'title': title,
                    'caption': f'caption {i}'})
  record = {'model_uri': '/models/candidate', 'pushed': True,
            'figures': figures, 'seconds': 12.5}
  with open(os.path.join(folder, 'explanation.json'), 'w') as f:
    json.dump(record, f)
  return record


# ---------------------------------------------------------------- browser

_CHECK_SCRIPT = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var broken = imgs.filter(function (i) {
    return !(i.complete && i.naturalWidth > 0); });
  var marker = document.createElement('pre');
  marker.id = 'render-check';
  marker.textContent = JSON.stringify({
    images: imgs.length,
    broken: broken.map(function (i) { return i.alt; }),
    widths: imgs.map(function (i) { return i.naturalWidth; }),
    tables: document.querySelectorAll('table').length,
    cells: document.querySelectorAll('td[data-value]').length,
    sections: Array.prototype.map.call(document.querySelectorAll('h2'),
                                       function (h) { return h.textContent; })
  });
  document.body.appendChild(marker);
});
</script>"""

_MARKER_START = '<pre id="render-check">'


def chromium() -> Optional[str]:
  """Debian's chromium, if installed."""
  for candidate in (shutil.which('chromium'), '/usr/bin/chromium'):
    if candidate and os.path.exists(candidate):
      return candidate
  return None


def require_chromium() -> str:
  """Chromium's path; skips the calling test without it, fails it in CI.

  CI (CI=true) installs Debian's chromium in .ci/run, so a missing browser
  there is a broken setup, not a reason to skip.
  """
  import pytest  # pylint: disable=g-import-not-at-top
  path = chromium()
  if path:
    return path
  reason = ("Debian's chromium is not installed (apt-get install chromium; "
            '.ci/run does this in CI)')
  if os.environ.get('CI', '').lower() in ('1', 'true', 'yes'):
    pytest.fail(f'CI is set but {reason}')
  pytest.skip(reason)


def _chromium_args(user_data_dir: str) -> List[str]:
  return [chromium(), '--headless', '--no-sandbox', '--disable-gpu',
          '--disable-quic', '--no-first-run', '--disable-background-networking',
          '--disable-component-update', '--disable-sync',
          '--disable-dev-shm-usage', f'--user-data-dir={user_data_dir}']


@dataclasses.dataclass
class BrowserCheck:
  images: int
  broken: List[str]
  widths: List[int]
  tables: int
  cells: int
  sections: List[str]
  console: List[str]   # console messages the page logged (errors included)
  screenshot: Optional[str]


def open_in_chromium(html_path: str, screenshot: Optional[str] = None,
                     timeout: int = 180) -> BrowserCheck:
  """Loads the page in headless Chromium and reports what rendered.

  The page is loaded from a copy with a small checking script appended (the
  report itself has no script), which lists images that did not decode and
  counts tables; console messages come from Chromium's own log. A screenshot
  of the unmodified report is saved when `screenshot` is given.
  """
  with open(html_path, encoding='utf-8') as f:
    page = f.read()
  with tempfile.TemporaryDirectory(prefix='report-browser-') as tmp:
    checked = os.path.join(tmp, 'check.html')
    with open(checked, 'w', encoding='utf-8') as f:
      f.write(page.replace('</body>', _CHECK_SCRIPT + '</body>'))
    proc = subprocess.run(
        _chromium_args(os.path.join(tmp, 'profile-dom')) + [
            '--enable-logging=stderr', '--v=0', '--virtual-time-budget=10000',
            '--dump-dom', 'file://' + checked],
        capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL)
    if proc.returncode != 0 or _MARKER_START not in proc.stdout:
      raise RuntimeError(f'chromium did not render {html_path} '
                         f'(exit {proc.returncode}):\n{proc.stderr[-3000:]}')
    marker = proc.stdout.split(_MARKER_START, 1)[1].split('</pre>', 1)[0]
    result = json.loads(html.unescape(marker))
    console = [line for line in proc.stderr.splitlines() if ':CONSOLE' in line]
    if screenshot:
      os.makedirs(os.path.dirname(os.path.abspath(screenshot)), exist_ok=True)
      shot = subprocess.run(
          _chromium_args(os.path.join(tmp, 'profile-shot')) + [
              '--hide-scrollbars', '--window-size=1280,7000',
              f'--screenshot={os.path.abspath(screenshot)}',
              'file://' + os.path.abspath(html_path)],
          capture_output=True, text=True, timeout=timeout,
          stdin=subprocess.DEVNULL)
      if shot.returncode != 0 or not os.path.exists(screenshot):
        raise RuntimeError(f'chromium screenshot failed:\n{shot.stderr[-3000:]}')
  return BrowserCheck(console=console,
                      screenshot=screenshot, **result)
