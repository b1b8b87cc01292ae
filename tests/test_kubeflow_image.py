"""What can be checked of the pipeline image without Docker.

Docker does not run on these machines, so the Dockerfile is parsed instead:
it must build on the TFX image of the version setup.py pins, install this
package with the lock file, set the variables the compiled package sets,
and put the files the compiled package refers to where it refers to them.
"""

import ast
import fnmatch
import os
import re
import shlex
from typing import Dict, List, Tuple

import pytest

import kubeflow_runner

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TFX_IMAGES = ('gcr.io/tfx-oss-public/tfx', 'tensorflow/tfx')


def _instructions() -> List[Tuple[str, str]]:
  """(INSTRUCTION, arguments) of the Dockerfile, continuations joined."""
  with open(os.path.join(REPO, 'Dockerfile')) as f:
    text = f.read()
  text = re.sub(r'\\\n', ' ', text)
  result = []
  for line in text.splitlines():
    line = line.strip()
    if line and not line.startswith('#'):
      word, _, rest = line.partition(' ')
      result.append((word.upper(), rest.strip()))
  return result


def _one(instruction: str) -> str:
  values = [rest for word, rest in _instructions() if word == instruction]
  assert len(values) == 1, f'expected one {instruction}, got {values}'
  return values[0]


def _setup_pins() -> Dict[str, str]:
  with open(os.path.join(REPO, 'setup.py')) as f:
    tree = ast.parse(f.read())
  for node in tree.body:
    if (isinstance(node, ast.Assign) and
        getattr(node.targets[0], 'id', None) == 'INSTALL_REQUIRES'):
      pins = {}
      for requirement in ast.literal_eval(node.value):
        name, sep, version = requirement.partition('==')
        if sep:
          pins[re.sub(r'\[.*\]', '', name)] = version
      return pins
  raise AssertionError('setup.py has no INSTALL_REQUIRES')


def _env() -> Dict[str, str]:
  env = {}
  for word, rest in _instructions():
    if word == 'ENV':
      for item in shlex.split(rest):
        key, _, value = item.partition('=')
        env[key] = value
  return env


def _ignored(path: str) -> bool:
  with open(os.path.join(REPO, '.dockerignore')) as f:
    patterns = [p.strip() for p in f if p.strip() and not p.startswith('#')]
  parts = path.split('/')
  prefixes = ['/'.join(parts[:i]) for i in range(1, len(parts) + 1)]
  return any(fnmatch.fnmatch(prefix, pattern.lstrip('/')) or
             fnmatch.fnmatch(prefix, pattern.replace('**/', ''))
             for pattern in patterns for prefix in prefixes)


def test_base_image_is_the_pinned_tfx_release():
  image = _one('FROM')
  name, _, tag = image.partition(':')
  assert name in TFX_IMAGES
  assert tag == _setup_pins()['tfx'] == '1.16.0'
  import tfx  # pylint: disable=g-import-not-at-top
  assert tag == tfx.__version__  # the compiler's version, too


def test_installs_this_package_with_the_lock_file():
  runs = [rest for word, rest in _instructions() if word == 'RUN']
  installs = [shlex.split(r) for r in runs if 'pip install' in r]
  assert len(installs) == 1
  words = installs[0]
  assert words[words.index('-c') + 1] == 'constraints.txt'
  assert words[-1] == '.'
  assert '-e' not in words


def test_sets_the_variables_every_step_gets():
  env = _env()
  for key, value in kubeflow_runner.CONTAINER_ENV.items():
    assert env.get(key) == value, key


def test_beam_worker_boot_matches_the_installed_beam_and_python():
  copies = [rest for word, rest in _instructions()
            if word == 'COPY' and rest.startswith('--from=')]
  assert len(copies) == 1
  source, src, dest = copies[0][len('--from='):].split()
  match = re.fullmatch(r'apache/beam_python(\d+\.\d+)_sdk:(.+)', source)
  assert match, source
  with open(os.path.join(REPO, '.python-version')) as f:
    assert match.group(1) == f.read().strip()
  assert match.group(2) == _setup_pins()['apache-beam']
  assert src == dest == '/opt/apache/beam'


def test_the_package_is_copied_where_the_compiled_pipeline_looks():
  workdir = _one('WORKDIR')
  assert workdir == kubeflow_runner.IMAGE_SOURCE_DIR
  copies = [rest for word, rest in _instructions()
            if word == 'COPY' and not rest.startswith('--from=')]
  assert copies == ['. .']
  # WORKDIR comes before the copy, so '. .' lands in it.
  words = [word for word, _ in _instructions()]
  assert words.index('WORKDIR') < len(words) - 1 - words[::-1].index('COPY')
  for in_image in (kubeflow_runner.IMAGE_SCHEMA_FILE,
                   kubeflow_runner.IMAGE_SETUP_FILE):
    relative = os.path.relpath(in_image, workdir)
    assert os.path.isfile(os.path.join(REPO, relative)), relative
    assert not _ignored(relative), relative


@pytest.mark.parametrize('path', [
    'setup.py', 'README.md', 'constraints.txt', 'schema/schema.pbtxt',
    'models/model.py', 'components/__init__.py', 'pipeline/configs.py',
    'pipeline/kfp_entrypoint.py'
])
def test_build_context_keeps_what_pip_install_needs(path):
  # setup.py reads README.md; pip install needs constraints.txt.
  assert os.path.exists(os.path.join(REPO, path))
  assert not _ignored(path)


@pytest.mark.parametrize('path', ['outputs/sample/x.jpg', '.git/HEAD',
                                  'models/__pycache__/model.cpython-310.pyc',
                                  '.venv/bin/python'])
def test_build_context_leaves_out_outputs_and_caches(path):
  assert _ignored(path)


def test_the_steps_entrypoint_is_in_the_image():
  """Every compiled step runs `python -m ENTRYPOINT_MODULE` in WORKDIR."""
  relative = kubeflow_runner.ENTRYPOINT_MODULE.replace('.', '/') + '.py'
  assert os.path.isfile(os.path.join(REPO, relative))
  assert not _ignored(relative)
