"""Opens a report in headless Chromium and says what rendered.

Debian's chromium (.ci/run installs it in CI) loads the page from disk, with
no network, the way a reader opens report.html or model_card.html.
"""

import dataclasses
import html
import json
import os
import shutil
import subprocess
import tempfile
from typing import List, Optional

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
    pageWidth: document.documentElement.scrollWidth,
    viewWidth: document.documentElement.clientWidth,
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
  pageWidth: int  # what the page needs, at a 1280 px wide window
  viewWidth: int  # what the window shows; wider pages scroll sideways
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
            '--window-size=1280,900',
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
        raise RuntimeError(
            f'chromium screenshot failed:\n{shot.stderr[-3000:]}')
  return BrowserCheck(console=console,
                      screenshot=screenshot, **result)
