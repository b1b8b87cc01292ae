"""The package layers import one way, and the wheel carries no test code.

    models/                      bottom: Transform and Trainer code, features
    components/contracts/,       shared names and artifact formats; the
    components/celeba/           CelebA data tools
    components/ (the rest)       the custom components and their CLIs
    pipeline/                    configs, the DAG, what the runners print
    local_runner.py, kubeflow_runner.py

A module may import its own layer or any layer below it, never one above.
Imports inside functions are for start-up time only (so `--help` answers at
once), and only entry points make them.
"""

import ast
import os
import subprocess
from typing import Iterator, List, Optional, Tuple

import setuptools

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT_PACKAGES = ('models', 'components', 'pipeline', 'schema')
RUNNERS = ('local_runner', 'kubeflow_runner')


def _layer(module: str) -> Optional[int]:
  """The layer of a project module (higher imports lower), None if foreign."""
  top = module.split('.')[0]
  if top in ('models', 'schema'):
    return 0
  if module.startswith(('components.contracts', 'components.celeba')):
    return 1
  if top == 'components':
    return 2
  if top == 'pipeline':
    return 3
  if top in RUNNERS:
    return 4
  return None


def _product_files() -> List[str]:
  files = subprocess.run(['git', 'ls-files', '--cached', '--others',
                          '--exclude-standard', '*.py'], cwd=REPO, check=True,
                         capture_output=True, text=True).stdout.split()
  return [f for f in files
          if os.path.exists(os.path.join(REPO, f)) and
          _layer(f[:-3].replace('/', '.')) is not None]


def _module_name(path: str) -> str:
  name = path[:-3].replace('/', '.')
  return name[:-len('.__init__')] if name.endswith('.__init__') else name


def _imports(path: str) -> Iterator[Tuple[int, str, bool]]:
  """(line, imported module, inside a function) for each project import."""
  with open(os.path.join(REPO, path)) as f:
    tree = ast.parse(f.read())
  in_function = set()
  for node in ast.walk(tree):
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
      in_function.update(id(n) for n in ast.walk(node) if n is not node)
  for node in ast.walk(tree):
    names = []
    if isinstance(node, ast.Import):
      names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
      names = [f'{node.module}.{alias.name}' for alias in node.names]
    for name in names:
      if name.split('.')[0] in PROJECT_PACKAGES + RUNNERS:
        yield node.lineno, name, id(node) in in_function


def test_no_module_imports_a_layer_above_its_own():
  upward = []
  for path in _product_files():
    here = _layer(_module_name(path))
    for line, name, _ in _imports(path):
      if _layer(name) > here:
        upward.append(f'{path}:{line} imports {name}')
  assert not upward, '\n'.join(upward)


def test_contracts_depend_on_nothing_but_models():
  for path in _product_files():
    if not path.startswith('components/contracts/'):
      continue
    for line, name, _ in _imports(path):
      assert name.startswith(('models', 'components.contracts')), (
          f'{path}:{line} imports {name}')


def test_only_entry_points_import_inside_functions():
  late = []
  for path in _product_files():
    entry_point = (os.path.basename(path) == '__main__.py' or
                   _module_name(path) in RUNNERS or
                   path == 'components/__init__.py')  # lazy artifact types
    for line, name, inside in _imports(path):
      if inside and not entry_point:
        late.append(f'{path}:{line} imports {name} inside a function')
  assert not late, '\n'.join(late)


def _setup_py_includes() -> List[str]:
  """The `include` patterns setup.py hands to find_packages."""
  with open(os.path.join(REPO, 'setup.py')) as f:
    tree = ast.parse(f.read())
  for node in ast.walk(tree):
    if (isinstance(node, ast.Call) and
        getattr(node.func, 'attr', '') == 'find_packages'):
      for keyword in node.keywords:
        if keyword.arg == 'include':
          return ast.literal_eval(keyword.value)
  raise AssertionError('setup.py calls no find_packages(include=...)')


def test_the_packages_setup_py_ships_hold_no_test_code():
  packages = setuptools.find_packages(where=REPO,
                                      include=_setup_py_includes())
  assert {'models', 'components', 'components.contracts',
          'pipeline'} <= set(packages)
  assert not [p for p in packages if p.split('.')[0] == 'tests']
  for package in packages:
    folder = os.path.join(REPO, *package.split('.'))
    for name in os.listdir(folder):
      assert not (name.startswith('test') or name.endswith('_test.py')), (
          f'{package}/{name} is test code inside an installed package')
