"""The report in a real browser: headless Chromium renders every table and
image of a report with every kind of content, and logs nothing to the console.

Runs on made-up metrics (no pipeline), so it is quick; test_report_e2e.py does
the same for reports of real runs. The screenshot is kept in test-artifacts/
(ignored by git). Without Chromium the test skips, except in CI (CI=true),
where .ci/run installs it and its absence is a failure.
"""

import os

import pytest

from components.report import content as content_lib
from components.contracts import explanation as explanation_lib
from tests import browser
from tests import report_reading
from components.report import writer
from tests import pipeline_runs
from tests import test_report

ARTIFACTS_DIR = os.path.join(pipeline_runs.REPO, 'test-artifacts')


# In a real browser: end to end, like the pipeline runs.
pytestmark = pytest.mark.e2e

def test_a_comparison_with_explanations_renders_in_chromium(tmp_path):
  browser.require_chromium()
  report_reading.write_fake_explanation(str(tmp_path / 'explanation'))
  explanation = explanation_lib.load(str(tmp_path / 'explanation'))
  report = test_report._reports(explanation=explanation)['compare']  # pylint: disable=protected-access
  files = writer.write(report, str(tmp_path / 'report'))
  check = browser.open_in_chromium(
      files.html, os.path.join(ARTIFACTS_DIR, 'report-unit-compare.png'))
  # Plots: balance, accuracy, 2 heatmaps, 2 confusion, error rates, a
  # threshold plot per model and output; plus the explanation figures.
  assert check.images == 7 + 2 * 2 + len(explanation.figures), check
  assert check.broken == []
  assert all(width > 0 for width in check.widths)
  assert check.tables >= 10 and check.cells > 200
  assert check.pageWidth <= check.viewWidth, (check.pageWidth, check.viewWidth)
  assert check.sections == list(content_lib.SECTIONS)
  assert check.console == [], check.console
  assert os.path.getsize(check.screenshot) > 10_000


def test_the_checker_sees_a_broken_image_and_a_console_error(tmp_path):
  """The browser check itself: it must catch what it is there to catch."""
  browser.require_chromium()
  page = tmp_path / 'broken.html'
  page.write_text(
      '<!DOCTYPE html><html><body><h2>x</h2><table><tr><td>1</td></tr>'
      '</table><img alt="bad" src="data:image/png;base64,AAAA">'
      '<script>console.error("boom")</script></body></html>')
  check = browser.open_in_chromium(str(page))
  assert check.broken == ['bad']
  assert any('boom' in line for line in check.console)
