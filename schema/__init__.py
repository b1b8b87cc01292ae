"""The curated schema the pipeline validates every split against.

`schema.pbtxt` is maintained by hand, not inferred: SchemaGen's inferred schema
is kept beside it in each run for comparison, but only this file decides what
counts as an anomaly (labels in {0, 1}, exactly one JPEG per example, ...).
"""

import os

SCHEMA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           'schema.pbtxt')
