"""The model card in a real browser: headless Chromium renders every table
and every graphic of model_card.html, and logs nothing to the console.

Runs on the made-up artifacts of test_model_card.py, so it is quick; the
screenshot is kept in test-artifacts/ (ignored by git). Without Chromium the
test skips, except in CI (CI=true), where its absence is a failure.
"""

import os

import pytest

from components.contracts import model_card as card_contract
from components.model_card import render
from tests import browser
from tests import pipeline_runs
from tests import test_model_card

ARTIFACTS_DIR = os.path.join(pipeline_runs.REPO, 'test-artifacts')


# In a real browser: end to end, like the pipeline runs.
pytestmark = pytest.mark.e2e

def test_the_model_card_renders_in_chromium(tmp_path):
  browser.require_chromium()
  card_dir, _, _ = test_model_card.run_executor(tmp_path)
  card = card_contract.read(card_dir)
  check = browser.open_in_chromium(
      os.path.join(card_dir, card_contract.CARD_HTML),
      os.path.join(ARTIFACTS_DIR, 'model-card-unit.png'))
  graphics = card['quantitative_analysis']['graphics']['collection']
  # Two heatmaps and two threshold plots (one each per output).
  assert len(graphics) == 4
  assert check.images == len(graphics)
  assert check.broken == []
  assert all(width > 300 for width in check.widths)
  assert check.sections == list(render.SECTIONS)
  assert check.cells == len(card['quantitative_analysis'][
      'performance_metrics'])
  assert check.tables >= 8
  # The widest tables (a column per threshold) scroll in their own box.
  assert check.pageWidth <= check.viewWidth, (check.pageWidth, check.viewWidth)
  assert check.console == [], check.console
  assert os.path.getsize(check.screenshot) > 10_000
