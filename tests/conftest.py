"""Shared fixtures, and how the suite is spread over pytest-xdist workers.

One default pipeline run serves every test that reads it. The suite runs on
every core (`-n auto` in pytest.ini) with `--dist loadgroup`: a group of
tests runs on one worker, so a fixture it shares is built once. Each test
module is a group, except that every test using the default run (directly
or through a fixture) joins the `default_run` group wherever it lives.
Groups are handed out in collection order, so the long pipeline runs are
put first: each worker starts one, and the short tests fill in behind; the
unit tests, run alone (`-m "not e2e"`), are ordered the same way.
"""

import gc
import os
from typing import Tuple

# TensorFlow's environment (models/__init__.py), before any test module
# imports TensorFlow, as some do before any package of the project.
import models  # pylint: disable=unused-import
import pytest

from tests import pipeline_runs

DEFAULT_RUN_GROUP = 'default_run'
# The longest groups, longest first (see `pytest --durations`), so that the
# short ones fill in at the end. End to end: the Kubeflow packages'
# task-by-task execution, then the default run and its readers.
_LONGEST_E2E = ('tests.test_kfp_e2e', DEFAULT_RUN_GROUP)
# Unit tests: the balancing tests first, which build the shared Transform
# graph, and the report tests, which do not, so that the next ones (saliency,
# signatures, the model) find the graph built.
_LONGEST_UNIT = ('tests.test_balancing', 'tests.test_report',
                 'tests.test_explain_saliency', 'tests.test_signatures',
                 'tests.test_model', 'tests.test_network',
                 'tests.test_local_runner_flags', 'tests.test_kubeflow_submit',
                 'tests.test_celeba_convert')


def _group(item: pytest.Item) -> str:
  marker = item.get_closest_marker('xdist_group')
  if marker is not None:
    return marker.args[0] if marker.args else marker.kwargs['name']
  if 'default_run' in item.fixturenames:
    return DEFAULT_RUN_GROUP
  return item.module.__name__


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
  del config
  for item in items:
    if item.get_closest_marker('xdist_group') is None:
      item.add_marker(pytest.mark.xdist_group(_group(item)))

  def rank(item: pytest.Item) -> Tuple[int, int]:
    """End-to-end groups first, then unit tests; longest first in each."""
    group = _group(item)
    e2e = group in _LONGEST_E2E or bool(item.get_closest_marker('e2e'))
    longest = _LONGEST_E2E if e2e else _LONGEST_UNIT
    return (0 if e2e else 1,
            longest.index(group) if group in longest else len(longest))

  items.sort(key=rank)


def pytest_collection_finish(session: pytest.Session) -> None:
  """Refuses to run with the groups split up (each would rebuild what its
  tests share): pytest-xdist marks a grouped test by its node id, which
  some pytest versions no longer read back."""
  if getattr(session.config.option, 'loadgroup', False) and session.items and (
      '@' not in session.items[0].nodeid):
    raise pytest.UsageError(
        'pytest-xdist did not group the tests (--dist loadgroup); install '
        'the versions in constraints.txt')
  # What collection imported (TensorFlow, TFX, Beam, TFMA: millions of
  # objects) lives as long as the process. Frozen, it is left out of the
  # garbage collector's full passes, which otherwise walk it again dozens of
  # times per worker (seconds of each worker's time).
  gc.collect()
  gc.freeze()


@pytest.fixture(scope='session')
def shared_transform(tmp_path_factory):
  """The Transform graph of the shared examples (tests/example_data.py) at
  32 px, built once for the whole run: its folder is in the run's temporary
  root, common to every pytest-xdist worker. Nothing may write there."""
  # pylint: disable=g-import-not-at-top
  from tests import example_data
  root = tmp_path_factory.getbasetemp()
  if os.environ.get('PYTEST_XDIST_WORKER'):
    root = root.parent  # the run's root; each worker has a folder in it
  return example_data.shared_transform_output(
      str(root / f'shared-tft-{example_data.SHARED_IMAGE_SIZE}'))


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
