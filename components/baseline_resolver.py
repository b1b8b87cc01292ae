"""The Evaluator's baseline: the latest blessed model that is not the candidate.

TFX's LatestBlessedModelStrategy returns the latest blessed model, full stop.
Rerun a pipeline with nothing changed and the Trainer's cached model, blessed
by the previous run, comes back as its own baseline: the Evaluator then
re-runs to compare a model with itself (and so does the Pusher), so the rerun
is never fully cached. This strategy also receives the candidate (the
Trainer's output in this run) and skips it, so an unchanged rerun resolves
exactly the baseline the original run had.
"""

from typing import Dict, List, Optional

from tfx import types
from tfx.dsl.components.common import resolver
from tfx.types import standard_artifacts

import ml_metadata as mlmd

CANDIDATE_KEY = 'candidate'
MODEL_KEY = 'model'
BLESSING_KEY = 'model_blessing'

# Custom properties the Evaluator sets on a ModelBlessing.
_CURRENT_MODEL_ID = 'current_model_id'
_BLESSED = 'blessed'


def previous_blessed_model(
    candidates: List[types.Artifact], models: List[types.Artifact],
    blessings: List[types.Artifact]) -> Dict[str, List[types.Artifact]]:
  """The newest blessed model that is not a candidate, with its blessing."""
  excluded = {m.id for m in candidates}
  blessed = {b.get_int_custom_property(_CURRENT_MODEL_ID): b
             for b in blessings if b.get_int_custom_property(_BLESSED) == 1}
  for model in sorted(models, key=lambda a: a.id, reverse=True):
    if model.id in blessed and model.id not in excluded:
      return {MODEL_KEY: [model], BLESSING_KEY: [blessed[model.id]],
              CANDIDATE_KEY: []}
  return {MODEL_KEY: [], BLESSING_KEY: [], CANDIDATE_KEY: []}


class PreviousBlessedModelStrategy(resolver.ResolverStrategy):
  """Resolves the latest blessed Model other than the current candidate.

  Inputs: `candidate` (the Trainer's model in this run), `model` (every Model)
  and `model_blessing` (every ModelBlessing). Outputs `model` and
  `model_blessing`, each with at most one artifact.
  """

  def resolve_artifacts(
      self, store: mlmd.MetadataStore,
      input_dict: Dict[str, List[types.Artifact]]
  ) -> Optional[Dict[str, List[types.Artifact]]]:
    del store  # Everything needed arrives in input_dict.
    for key, expected in ((MODEL_KEY, standard_artifacts.Model),
                          (BLESSING_KEY, standard_artifacts.ModelBlessing),
                          (CANDIDATE_KEY, standard_artifacts.Model)):
      if key not in input_dict:
        raise ValueError(f'PreviousBlessedModelStrategy needs a {key!r} '
                         f'channel of {expected.TYPE_NAME}')
    return previous_blessed_model(input_dict[CANDIDATE_KEY],
                                  input_dict[MODEL_KEY],
                                  input_dict[BLESSING_KEY])
