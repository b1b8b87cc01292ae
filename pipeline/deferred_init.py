"""A package whose `__init__` runs only when something needs its names.

TFX's container entrypoint imports one module under `tfx.components` (the
Evaluator's executor, for a subclass check), and Python runs
`tfx/components/__init__.py` first, which imports every standard component
and, through them, libraries no step of this pipeline uses (the
InfraValidator's Kubernetes client, the Tuner's, matplotlib): about a second
and a half of every container step's start-up, paid by every task of a
compiled package. Registering the package before that import lets its
submodules load on their own; the first attribute looked up on the package
itself (`from tfx.components import Trainer`) runs the real `__init__` then,
so code that wants those names still gets them.
"""

import importlib.util
import sys
import types


class _DeferredPackage(types.ModuleType):
  """A package module that runs its `__init__` on first missing attribute."""

  def __getattr__(self, name: str):
    if name.startswith('__') or not self.__dict__.get('_init_pending'):
      raise AttributeError(name)
    self.__dict__['_init_pending'] = False
    self.__spec__.loader.exec_module(self)
    return getattr(self, name)


def defer(package: str) -> bool:
  """Registers `package` so its `__init__` waits for a name to be used.

  Returns:
    False when the package is already imported or cannot be found (nothing
    changed), True otherwise.
  """
  if package in sys.modules:
    return False
  spec = importlib.util.find_spec(package)
  if spec is None or spec.submodule_search_locations is None:
    return False
  module = _DeferredPackage(package)
  module.__spec__ = spec
  module.__path__ = list(spec.submodule_search_locations)
  module.__file__ = spec.origin
  module.__loader__ = spec.loader
  module.__package__ = package
  module.__dict__['_init_pending'] = True
  sys.modules[package] = module
  return True
