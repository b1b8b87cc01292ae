"""The slice report: a model per gender x age cohort, readable anywhere.

TFMA's own views render only inside Jupyter. This package turns one Evaluator
run (candidate, and baseline when the Evaluator had one) or two runs (model A
against model B) into files a person opens in any browser or Markdown viewer:

    report.html  self-contained: inline CSS, plots as base64 PNG, no scripts,
                 nothing fetched from the network
    report.md    the summary: verdict, thresholds, per-cohort tables
    report.json  every number in the report, for tools and tests

Where the numbers come from (nothing is recomputed), each read through its
one reader:
  metrics, validation result, thresholds  the Evaluator's output folder
                                          (components.contracts.evaluation)
  label balance                           StatisticsGen
                                          (components.contracts.label_balance)
  class weights, hyperparameters          the Trainer's model_run folder
                                          (models.run_record)
  where the model went                    the Pusher's PushedModel artifact
                                          (components.contracts.push_record)
  figures                                 a ModelExplanation folder, if any
                                          (components.contracts.explanation)

Modules, one idea each:
  content.py        what a report says: the models side by side, one code
                    path for 'baseline vs candidate' and 'A vs B'
  thresholds.py     the thresholds that decided the blessing, from the run
  tables.py         the tables and findings every renderer lays out
  plots.py          matplotlib figures as embedded PNG
  render_html.py, render_markdown.py, report_json.py   the three files
  writer.py         writes them into a folder
  component.py      the SliceReport TFX component
  runs.py           finds a run's artifacts in an MLMD store
  compare.py, __main__.py   `python -m components.report compare A B`
"""

# File names inside a SliceReport artifact (or a compare output folder).
REPORT_HTML = 'report.html'
REPORT_MARKDOWN = 'report.md'
REPORT_JSON = 'report.json'
