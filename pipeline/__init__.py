"""The pipeline definition: its knobs (configs) and its DAG (pipeline)."""
