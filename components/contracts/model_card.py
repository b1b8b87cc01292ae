"""The model card's JSON file: its one writer and its one reader.

A ModelCard artifact (components.model_card) holds `model_card.json`, which
follows the Model Card Toolkit's JSON schema v0.0.2 (the file beside this
module, verbatim from tensorflow/model-card-toolkit at commit 4161ebb,
`model_card_toolkit/schema/v0.0.2/model_card.schema.json`), and two
renderings of it, `model_card.md` and `model_card.html`.

Two facts about that schema shape this module:

* Its one reference to `graphic` is written `#definitions/graphic` (no `/`
  after `#`), which today's jsonschema rejects as soon as a card has a
  graphic. `load_schema` mends that one string in memory; the file stays as
  published, pinned by its sha256.
* Only its top level is closed (`additionalProperties: false`), and a
  performance metric has no field for an interval. The card carries TFMA's
  95% interval as `confidence_interval: {lower_bound, upper_bound}` on each
  performance metric (the names the toolkit adopted later), and `problems`
  allows exactly that extension: any other key the schema does not declare,
  at any depth, is reported, as is anything the schema rejects.

A performance metric's `type` is `<output>/<TFMA metric name>`, with
`@<threshold>` for a value of a sweep, and its `slice` the slice's name
('Overall', 'Non-Young x Female', ...): `metric_type` and `parse_metric_type`
are the two directions of that rule. NaN is not JSON: an undefined value is
left out, never written.
"""

import hashlib
import json
import math
import os
from typing import Any, Dict, List, Optional, Tuple

import tensorflow as tf

SCHEMA_VERSION = '0.0.2'
CARD_JSON = 'model_card.json'
CARD_MARKDOWN = 'model_card.md'
CARD_HTML = 'model_card.html'

SCHEMA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           f'model_card.schema.v{SCHEMA_VERSION}.json')
SCHEMA_SHA256 = (
    'abfc635be94719288f07a60522a8b264d4d84916ca70cb6f8357c6eb4d01bbff')
_BROKEN_REF = '"#definitions/graphic"'
_MENDED_REF = '"#/definitions/graphic"'

# The one key the card adds to a schema definition, and its fields.
INTERVAL = 'confidence_interval'
LOWER = 'lower_bound'
UPPER = 'upper_bound'
_EXTENSIONS = {'performance_metric': {INTERVAL}}

TOP_LEVEL_KEYS = ('schema_version', 'model_details', 'model_parameters',
                  'quantitative_analysis', 'considerations')


def metric_type(output: str, metric: str,
                threshold: Optional[float] = None) -> str:
  """'Male/binary_accuracy', or 'Young/fall_out_sweep@0.3' for a sweep."""
  name = f'{output}/{metric}'
  return name if threshold is None else f'{name}@{threshold:g}'


def parse_metric_type(text: str) -> Tuple[str, str, Optional[float]]:
  """(output, TFMA metric name, threshold or None) of a metric's `type`."""
  output, rest = text.split('/', 1)
  if '@' in rest:
    metric, threshold = rest.split('@', 1)
    return output, metric, float(threshold)
  return output, rest, None


def load_schema() -> Dict[str, Any]:
  """The published schema, checked by hash, with its one bad $ref mended."""
  with open(SCHEMA_FILE, 'rb') as f:
    raw = f.read()
  digest = hashlib.sha256(raw).hexdigest()
  if digest != SCHEMA_SHA256:
    raise ValueError(f'{SCHEMA_FILE} is not the published v{SCHEMA_VERSION} '
                     f'schema (sha256 {digest})')
  text = raw.decode('utf-8')
  if text.count(_BROKEN_REF) != 1:
    raise ValueError(f'{SCHEMA_FILE}: expected one {_BROKEN_REF}')
  return json.loads(text.replace(_BROKEN_REF, _MENDED_REF))


def _undeclared(card: Dict[str, Any], schema: Dict[str, Any]) -> List[str]:
  """Paths of keys the schema does not declare (beyond the interval)."""
  definitions = schema['definitions']
  found = []

  def walk(node, node_schema, path, definition=None):
    while '$ref' in node_schema:
      definition = node_schema['$ref'].split('/')[-1]
      node_schema = definitions[definition]
    if isinstance(node, dict):
      declared = node_schema.get('properties', {})
      for key, value in node.items():
        if key in declared:
          walk(value, declared[key], f'{path}.{key}')
        elif key in _EXTENSIONS.get(definition, ()):
          if not (isinstance(value, dict) and set(value) == {LOWER, UPPER}
                  and all(isinstance(v, (int, float)) and math.isfinite(v)
                          for v in value.values())):
            found.append(f'{path}.{key}: not {{{LOWER}, {UPPER}}} numbers')
        else:
          found.append(f'{path}.{key}: not in the schema')
    elif isinstance(node, list):
      for i, item in enumerate(node):
        walk(item, node_schema.get('items', {}), f'{path}[{i}]')

  walk(card, schema, '$')
  return found


def problems(card: Dict[str, Any]) -> List[str]:
  """Everything wrong with a card: schema errors (formats such as `date` and
  `uri` included) and keys the schema does not declare. Empty when valid."""
  # Imported here: jsonschema's format checkers build a grammar on import
  # (2.4 s here), which every process that imports the pipeline's
  # definition would pay, where only writing or checking a card needs it.
  import jsonschema  # pylint: disable=g-import-not-at-top
  schema = load_schema()
  validator_class = jsonschema.validators.validator_for(schema)
  validator_class.check_schema(schema)
  validator = validator_class(schema,
                              format_checker=validator_class.FORMAT_CHECKER)
  found = [f'${"".join(f"[{p!r}]" for p in error.absolute_path)}: '
           f'{error.message[:300]}'
           for error in sorted(validator.iter_errors(card),
                               key=lambda e: list(map(str, e.absolute_path)))]
  return found + _undeclared(card, schema)


def to_json(card: Dict[str, Any]) -> str:
  """The card as JSON text; refuses a card with problems (or a NaN)."""
  found = problems(card)
  if found:
    raise ValueError('the model card does not follow the Model Card '
                     f'Toolkit schema v{SCHEMA_VERSION}:\n' + '\n'.join(found))
  return json.dumps(card, indent=1, allow_nan=False, ensure_ascii=False)


def write(folder: str, card: Dict[str, Any]) -> str:
  """Writes `model_card.json` into `folder` (local or gs://); its path."""
  text = to_json(card)
  tf.io.gfile.makedirs(folder)
  path = os.path.join(folder, CARD_JSON)
  with tf.io.gfile.GFile(path, 'w') as f:
    f.write(text)
  return path


def read(folder: str) -> Dict[str, Any]:
  """The card in `folder`'s `model_card.json`."""
  with tf.io.gfile.GFile(os.path.join(folder, CARD_JSON)) as f:
    return json.load(f)


def performance_metrics(card: Dict[str, Any]
                        ) -> Dict[Tuple[str, str, str, Optional[float]],
                                  Dict[str, Any]]:
  """(output, slice, metric, threshold) -> the card's performance metric."""
  result = {}
  for entry in card.get('quantitative_analysis', {}).get(
      'performance_metrics', []):
    output, metric, threshold = parse_metric_type(entry['type'])
    result[(output, entry.get('slice', ''), metric, threshold)] = entry
  return result
