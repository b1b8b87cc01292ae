"""Shared fixtures: one default pipeline run serves every test that reads it."""

import os

# TensorFlow's environment (models/__init__.py), before any test module
# imports TensorFlow, as some do before any package of the project.
import models  # pylint: disable=unused-import
import pytest

from tests import pipeline_runs


@pytest.fixture(scope='session')
def default_run(tmp_path_factory) -> pipeline_runs.Run:
  """`python local_runner.py` with defaults on the e2e sample, run once."""
  root = str(tmp_path_factory.mktemp('default_run'))
  return pipeline_runs.run_local(root).check()


@pytest.fixture(scope='session')
def e2e_data_root(default_run) -> str:
  """The converted TFRecords the default run read."""
  root = os.path.join(default_run.output_root, 'tfrecords')
  (name,) = os.listdir(root)
  return os.path.join(root, name)
