"""A package's __init__ deferred until its names are used (deferred_init)."""

import sys

import pytest

from pipeline import deferred_init


@pytest.fixture
def package(tmp_path, monkeypatch):
  """A package whose __init__ imports a heavy submodule."""
  root = tmp_path / 'deferredpkg'
  root.mkdir()
  (root / '__init__.py').write_text(
      'from deferredpkg.heavy import NAME\nINIT_RAN = True\n')
  (root / 'heavy.py').write_text('NAME = "heavy"\n')
  (root / 'light.py').write_text('VALUE = 1\n')
  monkeypatch.syspath_prepend(str(tmp_path))
  yield 'deferredpkg'
  for name in [n for n in sys.modules if n.split('.')[0] == 'deferredpkg']:
    del sys.modules[name]


def test_a_submodule_loads_without_the_package_init(package):
  assert deferred_init.defer(package)
  import deferredpkg.light  # pylint: disable=g-import-not-at-top
  assert deferredpkg.light.VALUE == 1
  assert 'deferredpkg.heavy' not in sys.modules
  assert 'INIT_RAN' not in vars(sys.modules[package])


def test_the_first_name_used_runs_the_init(package):
  deferred_init.defer(package)
  import deferredpkg.light  # pylint: disable=g-import-not-at-top,unused-import
  from deferredpkg import NAME  # pylint: disable=g-import-not-at-top
  assert NAME == 'heavy'
  assert sys.modules[package].INIT_RAN
  with pytest.raises(AttributeError):
    getattr(sys.modules[package], 'missing')


def test_an_imported_or_unknown_package_is_left_alone(package):
  import deferredpkg  # pylint: disable=g-import-not-at-top
  assert not deferred_init.defer(package)
  assert deferredpkg.INIT_RAN
  assert not deferred_init.defer('no_such_package_here')
