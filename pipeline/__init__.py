"""The pipeline definition: its knobs (configs) and its DAG (pipeline)."""

# TensorFlow's environment (Keras 2, oneDNN), before anything imports it.
import models  # pylint: disable=unused-import
