"""Components this pipeline needs that standard TFX does not provide."""

_ARTIFACT_TYPES = ('DataReport', 'SliceReport', 'ModelExplanation')


def __getattr__(name):
  """`components.DataReport` etc.: the artifact classes, imported on demand.

  Their TYPE_NAME is this import path (see components/artifacts.py); lazy so
  that `components.celeba` stays free of the TFX import.
  """
  if name in _ARTIFACT_TYPES:
    from components import artifacts  # pylint: disable=g-import-not-at-top
    return getattr(artifacts, name)
  raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
