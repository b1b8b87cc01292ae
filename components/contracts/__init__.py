"""What the pipeline's parts agree on: names and artifact file formats.

The bottom layer of `components/`, beside the CelebA data tools: everything
that more than one component, the DAG, the runners or the reports must read or
write the same way lives here, once. Each module is one contract and holds
its only reader and writer:

  node_ids.py       the DAG's node ids (how a run's executions are found)
  metric_names.py   TFMA metric names as recorded, the decision threshold
  evaluation.py     the Evaluator's output folder: metrics, validation
                    result and the eval config it ran with
  label_balance.py  label balance per split from StatisticsGen's output
  explanation.py    explanation.json, the explainer's index of its figures
  baseline_record.py  baseline.json in the Evaluator's output: which
                    baseline the candidate was judged against, or why none
  push_record.py    what the Pusher recorded about a model
  run_results.py    what one pipeline run recorded in ML Metadata
  model_card.py     model_card.json (Model Card Toolkit schema v0.0.2, the
                    schema file beside it) and its validation

Nothing here imports from the component packages above it, the DAG or the
runners.
"""
