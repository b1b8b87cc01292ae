"""The one exception the CelebA tools raise for bad input data.

Every problem with the files a user hands us (a table that does not parse, an
image that does not decode, ...) becomes a `CelebAFormatError` that names the
file and, for table rows, the 1-based line number as an editor shows it, so
the user can jump straight to the culprit. Anything else that escapes is a bug
or an environment failure (disk full, permissions), not a data problem.
"""

import re
from pathlib import Path
from typing import Optional, Union


class CelebAFormatError(Exception):
  """Bad CelebA input: a table that does not parse or an image that is bad.

  Attributes:
    path: the offending file (a table or an image).
    line: 1-based line number in `path`, or None when the problem is the whole
      file (an image, a missing table).
    message: what is wrong, in words.
  """

  def __init__(self, message: str, path: Union[str, Path, None] = None,
               line: Optional[int] = None):
    # All three go to Exception.__init__ so that pickling (the error crosses
    # process boundaries in the multi-process converter) rebuilds it intact.
    super().__init__(message, None if path is None else str(path), line)
    self.message = message
    self.path = None if path is None else str(path)
    self.line = line

  def location(self) -> str:
    """`path:line`, `path` or '' when there is no path."""
    if self.path is None:
      return ''
    return self.path if self.line is None else f'{self.path}:{self.line}'

  def __str__(self) -> str:
    where = self.location()
    return f'{where}: {self.message}' if where else self.message


def tensorflow_message(error: Exception) -> str:
  """The first line of a TensorFlow error, without its graph node and op."""
  message = str(getattr(error, 'message', error)).strip()
  message = re.sub(r'\{\{.*?\}\}\s*|\s*\[Op:\w+\].*$', '', message,
                   flags=re.DOTALL).strip()
  return message.splitlines()[0] if message else type(error).__name__
