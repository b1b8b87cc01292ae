"""The model card: what the model is for, and how well it does per cohort.

The Model Card Toolkit (and its TFX component) cannot be installed beside
TFX 1.16, so this package writes a card in the toolkit's JSON schema v0.0.2
itself, from the run's own artifacts, after the Evaluator:

    model_card.json  the card (schema v0.0.2; TFMA's 95% interval on each
                     performance metric as `confidence_interval`), written
                     and read through components.contracts.model_card
    model_card.md    the card for a Markdown viewer
    model_card.html  self-contained: inline CSS, graphics as base64 PNG, no
                     scripts, nothing fetched from the network

Modules:
  content.py    what the card says, from the Evaluator's output, the
                DataReport, the SavedModel's signatures and the model run
  render.py     the Markdown and HTML renderings of the card
  executor.py   the component's executor: reads the artifacts, writes the files
  component.py  the ModelCardGenerator TFX component
"""

import os

# The artifact's file names and schema version, from the card's contract.
from components.contracts.model_card import CARD_HTML
from components.contracts.model_card import CARD_JSON
from components.contracts.model_card import CARD_MARKDOWN
from components.contracts.model_card import SCHEMA_VERSION

__all__ = ['CARD_HTML', 'CARD_JSON', 'CARD_MARKDOWN', 'SCHEMA_VERSION',
           'PACKAGE_DIR']

# Hashed into the cache key (see ModelCardGenerator's code_digest).
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
