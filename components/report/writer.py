"""Writes a report's three files into a folder (an artifact or any path)."""

import dataclasses
import os

import tensorflow as tf

from components import report as report_pkg
from components.report import content as content_lib
from components.report import render_html
from components.report import render_markdown
from components.report import report_json


@dataclasses.dataclass(frozen=True)
class ReportFiles:
  html: str
  markdown: str
  json: str


def paths(folder: str) -> ReportFiles:
  return ReportFiles(html=os.path.join(folder, report_pkg.REPORT_HTML),
                     markdown=os.path.join(folder, report_pkg.REPORT_MARKDOWN),
                     json=os.path.join(folder, report_pkg.REPORT_JSON))


def write(report: content_lib.ReportContent, folder: str) -> ReportFiles:
  """Renders `report` and writes report.html, report.md and report.json."""
  files = paths(folder)
  tf.io.gfile.makedirs(folder)
  for path, text in ((files.html, render_html.render(report)),
                     (files.markdown, render_markdown.render(report)),
                     (files.json, report_json.render(report))):
    with tf.io.gfile.GFile(path, 'w') as f:
      f.write(text)
  return files
