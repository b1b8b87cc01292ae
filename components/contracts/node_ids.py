"""Node ids of the pipeline's DAG, stable across runs.

The DAG (pipeline/pipeline.py) gives each node one of these ids; the run
summary, the reports and the tests find a run's executions in ML Metadata by
them, so they are a contract rather than a detail of the DAG.
"""

EXAMPLE_GEN = 'ImportExampleGen'
STATISTICS_GEN = 'StatisticsGen'
DATA_REPORT = 'DataReport'
SCHEMA_GEN = 'SchemaGen'
CURATED_SCHEMA = 'CuratedSchema'
EXAMPLE_VALIDATOR = 'ExampleValidator'
DATA_GATE = 'DataValidationGate'
TRANSFORM = 'Transform'
TRAINER = 'Trainer'
SERVED_BASELINE = 'ServedBaseline'
# The served model a warm-started Trainer begins from.
WARM_START_MODEL = 'WarmStartModel'
EVALUATOR = 'Evaluator'
PUSHER = 'Pusher'
EXPLAINER = 'ModelExplainer'
SLICE_REPORT = 'SliceReport'
MODEL_CARD = 'ModelCardGenerator'
