"""The report's figures, drawn with matplotlib and returned as PNG bytes.

matplotlib is already a project dependency, draws without a display or a
network, and gives PNGs the HTML embeds as base64, so the report is one file
that opens anywhere. Figures are built on `matplotlib.figure.Figure` (not
pyplot), so no global state leaks between reports or threads. Every plotted
number is one the report's tables also show; error bars are TFMA's 95%
intervals, clipped to [0, 1] as the tables clip them.
"""

import io
import math
from typing import Dict, List, Optional, Sequence

from matplotlib import ticker
from matplotlib.figure import Figure
import numpy as np

from components.contracts import evaluation as er
from components.contracts import label_balance
from components.report import content as content_lib
from models import features
from components.contracts import metric_names

DPI = 96
# Colour-blind-safe (Okabe-Ito) colours for models and cohorts.
MODEL_COLOURS = ('#999999', '#0072B2', '#E69F00', '#009E73')
COHORT_COLOURS = ('#D55E00', '#CC79A7', '#0072B2', '#56B4E9')


def to_png(figure: Figure, crop: bool = False) -> bytes:
  """PNG bytes of `figure`. A figure laid out by `tight_layout` already fits
  its labels; `crop` is for one with text outside its axes, and costs a
  second full drawing (matplotlib's bbox_inches='tight')."""
  buffer = io.BytesIO()
  figure.savefig(buffer, format='png', dpi=DPI,
                 bbox_inches='tight' if crop else None)
  return buffer.getvalue()


def _model_colours(n: int) -> Sequence[str]:
  # With one model use the subject's colour; with two, grey then blue.
  return MODEL_COLOURS[1:2] if n == 1 else MODEL_COLOURS[:n]


def balance_figure(balances: Dict[str, label_balance.SplitBalance]) -> bytes:
  """Per split: cohort counts as one stacked bar, positive rates annotated."""
  splits = [s for s in features.SPLITS if s in balances] + sorted(
      s for s in balances if s not in features.SPLITS)
  cohorts = features.cohort_names()
  figure = Figure(figsize=(8, 0.6 + 0.6 * len(splits)))
  ax = figure.subplots()
  for i, split in enumerate(splits):
    b = balances[split]
    left = 0
    for colour, cohort in zip(COHORT_COLOURS, cohorts):
      share = b.cohort_shares[cohort]
      ax.barh(i, share, left=left, color=colour,
              label=cohort if i == 0 else None)
      if share > 0.06:
        ax.text(left + share / 2, i, f'{b.cohort_counts[cohort]}',
                ha='center', va='center', fontsize=8, color='white')
      left += share
    rates = ', '.join(f'{label} {b.positive_rates[label]:.0%}'
                      for label in features.LABEL_KEYS)
    ax.text(1.01, i, f'n={b.num_examples}; {rates}', va='center', fontsize=8)
  ax.set_yticks(range(len(splits)), splits)
  ax.set_xlim(0, 1)
  ax.invert_yaxis()
  ax.set_xlabel('share of examples (bar labels: counts)')
  ax.legend(loc='upper center', bbox_to_anchor=(0.5, -0.35), ncol=4,
            fontsize=8, frameon=False)
  ax.set_title('Label balance per split (StatisticsGen)')
  return to_png(figure, crop=True)


def error_lengths(values: Sequence[float],
                  intervals: Sequence[Optional[er.Interval]]) -> np.ndarray:
  """[2, n] lengths below and above each value for `errorbar`: TFMA's bounds
  clipped to [0, 1]; zero where there is no finite interval."""
  below, above = [], []
  for value, interval in zip(values, intervals):
    if interval is None or not interval.finite or math.isnan(value):
      below.append(0.0)
      above.append(0.0)
      continue
    below.append(max(0.0, value - max(0.0, interval.lower)))
    above.append(max(0.0, min(1.0, interval.upper) - value))
  return np.array([below, above])


def _grouped_bars(ax, groups: List[str], series: List[List[float]],
                  names: List[str], colours: Sequence[str],
                  intervals: Optional[List[List[Optional[er.Interval]]]] = None,
                  bottom: float = 0.0) -> None:
  """Bars from `bottom` up, each labelled with its value to one decimal
  above its error bar (as the tables print it)."""
  width = 0.8 / max(len(series), 1)
  x = np.arange(len(groups))
  intervals = intervals or [[None] * len(v) for v in series]
  span = ax.get_ylim()[1] - bottom if ax.get_ylim()[1] > bottom else 1.0
  for i, (values, name, colour, bounds) in enumerate(
      zip(series, names, colours, intervals)):
    centres = x + (i - (len(series) - 1) / 2) * width
    heights = [0 if math.isnan(v) else max(v - bottom, 0) for v in values]
    ax.bar(centres, heights, width, bottom=bottom, label=name, color=colour)
    errors = error_lengths(values, bounds)
    shown = [not math.isnan(v) for v in values]
    if any(shown):
      ax.errorbar(centres[shown], np.array(values)[shown],
                  yerr=errors[:, shown], fmt='none', ecolor='#333333',
                  elinewidth=1, capsize=3)
    for centre, v, above in zip(centres, values, errors[1]):
      top = bottom if math.isnan(v) else max(v, bottom) + above
      ax.text(centre, top + 0.01 * span, 'n/a' if math.isnan(v) else
              f'{v:.1%}', ha='center', va='bottom', fontsize=7)
  ax.set_xticks(x, groups, fontsize=8)


def axis_floor(values: Sequence[float],
               intervals: Sequence[Optional[er.Interval]]) -> float:
  """Where an accuracy axis starts: 5 points under the lowest value or
  lower bound, on a 5% step, so 89.5% and 97% do not look alike."""
  lows = [v for v in values if not math.isnan(v)]
  lows += [max(0.0, i.lower) for i in intervals
           if i is not None and i.finite]
  if not lows:
    return 0.0
  return max(0.0, math.floor((min(lows) - 0.05) * 20 + 1e-9) / 20)


def accuracy_figure(report: content_lib.ReportContent) -> bytes:
  """Accuracy per output, overall and per cohort, one bar per model, with
  95% intervals as error bars, on an axis that starts near the lowest."""
  outputs = report.outputs()
  slices = [er.OVERALL] + list(content_lib.COHORT_SLICES)
  figure = Figure(figsize=(10, 2.8 * len(outputs)))
  axes = np.atleast_1d(figure.subplots(len(outputs), 1))
  for ax, output in zip(axes, outputs):
    series = [[m.value(k, output, metric_names.ACCURACY) for k in slices]
              for m in report.models]
    intervals = [[m.interval(k, output, metric_names.ACCURACY)
                  for k in slices] for m in report.models]
    floor = axis_floor([v for s in series for v in s],
                       [i for s in intervals for i in s])
    ax.set_ylim(floor, 1.0 + 0.2 * (1.0 - floor))
    _grouped_bars(ax, [er.slice_name(k) for k in slices], series,
                  [m.name for m in report.models],
                  _model_colours(len(report.models)), intervals, floor)
    ax.yaxis.set_major_formatter(ticker.PercentFormatter(1.0))
    ax.set_ylabel(f'accuracy (axis from {floor:.0%})')
    ax.set_title(f'{output}: accuracy overall and per cohort, '
                 '95% intervals as error bars')
    ax.legend(fontsize=8, loc='lower right')
  figure.tight_layout()
  return to_png(figure)


def error_rates_figure(report: content_lib.ReportContent) -> bytes:
  """FPR and FNR per cohort and output, one bar per model."""
  outputs = report.outputs()
  cohorts = list(content_lib.COHORT_SLICES)
  figure = Figure(figsize=(11, 3.0 * len(outputs)))
  axes = np.atleast_2d(figure.subplots(len(outputs), 2))
  for row, output in zip(axes, outputs):
    for ax, (metric, title) in zip(
        row, ((metric_names.FALSE_POSITIVE_RATE, 'FPR'),
              (metric_names.FALSE_NEGATIVE_RATE, 'FNR'))):
      # A cohort holds one true class: only the rate of that class shows.
      shown = [k for k in cohorts if any(
          not math.isnan(m.value(k, output, metric)) for m in report.models)]
      series = [[m.value(k, output, metric) for k in shown]
                for m in report.models]
      intervals = [[m.interval(k, output, metric) for k in shown]
                   for m in report.models]
      highs = [v for s in series for v in s if not math.isnan(v)]
      highs += [min(1.0, i.upper) for s in intervals for i in s
                if i is not None and i.finite]
      top = max(highs + [0.1])
      ax.set_ylim(0, min(1.2, top * 1.25 + 0.03))
      _grouped_bars(ax, [er.slice_name(k).replace(' x ', '\n')
                         for k in shown], series,
                    [m.name for m in report.models],
                    _model_colours(len(report.models)), intervals)
      ax.yaxis.set_major_formatter(ticker.PercentFormatter(1.0))
      ax.set_title(f'{output}: {title} per cohort at 0.5 (95% intervals)',
                   fontsize=10)
      ax.legend(fontsize=7)
  figure.tight_layout()
  return to_png(figure)


def _cohort_grid(model: content_lib.ModelResult, output: str,
                 metric: str) -> np.ndarray:
  """Rows Young=1, Young=0; columns Male=0 (Female), Male=1 (Male)."""
  return np.array([[model.value(er.cohort_key(male, young), output, metric)
                    for male in (0, 1)] for young in (1, 0)])


def _annotated_grid(ax, grid: np.ndarray, counts: Optional[np.ndarray],
                    title: str, cmap: str, vmin: float, vmax: float,
                    fmt, intervals: Optional[List[List[str]]] = None) -> None:
  shown = np.where(np.isnan(grid), (vmin + vmax) / 2, grid)
  ax.imshow(shown, cmap=cmap, vmin=vmin, vmax=vmax)
  for r in range(2):
    for c in range(2):
      text = fmt(grid[r, c])
      if intervals is not None and intervals[r][c]:
        text += f'\n{intervals[r][c]}'
      if counts is not None and not math.isnan(counts[r, c]):
        text += f'\nn={counts[r, c]:.0f}'
      # White on the dark ends of a diverging colour map, black in between.
      extreme = abs(shown[r, c] - (vmin + vmax) / 2) > 0.35 * (vmax - vmin)
      ax.text(c, r, text, ha='center', va='center', fontsize=9,
              color='white' if extreme else 'black')
  ax.set_xticks([0, 1], [features.VALUE_NAMES[features.MALE_KEY][0],
                         features.VALUE_NAMES[features.MALE_KEY][1]])
  ax.set_yticks([0, 1], [features.VALUE_NAMES[features.YOUNG_KEY][1],
                         features.VALUE_NAMES[features.YOUNG_KEY][0]])
  ax.set_title(title, fontsize=10)


def heatmap_figure(report: content_lib.ReportContent, output: str) -> bytes:
  """Male x Young accuracy of one output, per model, and the change."""
  panels = len(report.models) + (1 if report.compared else 0)
  figure = Figure(figsize=(3.2 * panels, 3.0))
  axes = np.atleast_1d(figure.subplots(1, panels))
  info = content_lib.METRIC_INFO[metric_names.ACCURACY]
  for ax, model in zip(axes, report.models):
    intervals = [[info.interval_text(model.interval(
        er.cohort_key(male, young), output, metric_names.ACCURACY))
                  for male in (0, 1)] for young in (1, 0)]
    _annotated_grid(ax, _cohort_grid(model, output, metric_names.ACCURACY),
                    _cohort_grid(model, output, metric_names.EXAMPLE_COUNT),
                    f'{model.name}', 'RdYlGn', 0.5, 1.0,
                    content_lib.percent, intervals)
  if report.compared:
    change = np.array([[report.row(output, er.cohort_key(male, young),
                                   metric_names.ACCURACY).change
                        for male in (0, 1)] for young in (1, 0)],
                      dtype=float)
    _annotated_grid(axes[-1], change, None, report.change_title, 'RdBu',
                    -0.2, 0.2, content_lib.percent_points)
  figure.suptitle(f'{output}: accuracy per Male x Young cohort', fontsize=11)
  figure.tight_layout()
  return to_png(figure)


def confusion_figure(report: content_lib.ReportContent, output: str) -> bytes:
  """Confusion matrix of one output, split by the other attribute (Male by
  age group, Young by gender), per model."""
  models = report.models
  figure = Figure(figsize=(3.0 * 2 * len(models), 3.0))
  axes = np.atleast_1d(figure.subplots(1, 2 * len(models)))
  names = features.VALUE_NAMES[output]
  for i, model in enumerate(models):
    for j, key in enumerate(content_lib.other_label_slices(output)):
      ax = axes[2 * i + j]
      c = model.confusion(key, output) or er.Confusion(
          math.nan, math.nan, math.nan, math.nan)
      grid = np.array([[c.tn, c.fp], [c.fn, c.tp]], dtype=float)
      total = np.nansum(grid) or 1.0
      ax.imshow(np.nan_to_num(grid / total), cmap='Blues', vmin=0, vmax=1)
      for r in range(2):
        for col in range(2):
          ax.text(col, r, content_lib.count(grid[r, col]), ha='center',
                  va='center', fontsize=10,
                  color='white' if grid[r, col] / total > 0.5 else 'black')
      ax.set_xticks([0, 1], [f'pred {names[0]}', f'pred {names[1]}'],
                    fontsize=8)
      ax.set_yticks([0, 1], [f'true {names[0]}', f'true {names[1]}'],
                    fontsize=8)
      ax.set_title(f'{model.name}: {er.slice_name(key)}', fontsize=10)
  figure.suptitle(f'{output}: confusion matrix by '
                  f'{content_lib.other_label(output)}', fontsize=11)
  figure.tight_layout()
  return to_png(figure)


def threshold_figure(model: content_lib.ModelResult, output: str) -> bytes:
  """FPR and FNR of one output across thresholds: one line per cohort (and
  overall, dashed) with 95% intervals as error bars; a cohort whose rate is
  undefined (no faces of that class) has no line in that panel."""
  figure = Figure(figsize=(11, 3.6))
  axes = figure.subplots(1, 2)
  lines = [(er.OVERALL, '#000000')] + list(
      zip(content_lib.COHORT_SLICES, COHORT_COLOURS))
  for ax, (metric, info) in zip(axes, content_lib.SWEEP_INFO.items()):
    thresholds = np.array(model.thresholds(output, metric))
    step = (np.min(np.diff(thresholds)) if len(thresholds) > 1 else 0.1)
    drawn = 0
    for i, (key, colour) in enumerate(lines):
      values, intervals = model.sweep(key, output, metric)
      if not values or all(math.isnan(v) for v in values):
        continue
      shift = (i - (len(lines) - 1) / 2) * step * 0.06
      ax.errorbar(thresholds + shift, values,
                  yerr=error_lengths(values, intervals), color=colour,
                  marker='o', markersize=3, capsize=2, elinewidth=0.8,
                  linestyle='--' if key == er.OVERALL else '-',
                  label=er.slice_name(key))
      drawn += 1
    ax.axvline(metric_names.DECISION_THRESHOLD, color='#999999',
               linestyle=':', linewidth=1)
    ax.set_xticks(thresholds, [f'{t:g}' for t in thresholds], fontsize=8)
    ax.set_xlabel('threshold (a probability above it counts as positive)',
                  fontsize=8)
    ax.set_ylim(-0.02, 1.02)
    ax.yaxis.set_major_formatter(ticker.PercentFormatter(1.0))
    ax.set_title(f'{output}: {info.title} by threshold (95% intervals)',
                 fontsize=10)
    if drawn:
      ax.legend(fontsize=7)
  figure.suptitle(f'{model.name}: {output} error rates across decision '
                  'thresholds', fontsize=11)
  figure.tight_layout()
  return to_png(figure)
