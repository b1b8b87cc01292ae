"""The Evaluator's baseline: the model being served, on every orchestrator.

TFX's usual baseline is a Resolver node that asks MLMD for the latest blessed
model. Kubeflow's V2 compiler turns it into resolver tasks that only Vertex AI
runs; the open-source KFP 2.x backend has neither those tasks nor the MLMD
queries behind them, so there the regression guard was off. What is being
served is a fact about the push destination, not about MLMD, so this package
reads it there, in an ordinary container step that runs the same way locally,
on KFP 2.x and on Vertex AI:

* `served`: finds the newest served SavedModel version in a folder (the
  Pusher's base directory unless configured otherwise), leaving out a version
  that is byte for byte the candidate (a rerun of a model that was pushed);
* `component`: the ServedBaseline component, which copies that version into
  a standard `Model` artifact and marks whether anything was served, plus a
  local driver that makes the choice part of the cache key;
* `evaluator`: TFX's Evaluator with a thin executor that leaves out a
  baseline marked as not served (a KFP output artifact always exists) and
  records in the evaluation which baseline was used, or why none was.
"""
