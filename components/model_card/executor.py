"""The ModelCardGenerator's executor: reads the run's artifacts, writes the card.

Like the Model Card Toolkit's TFX executor, it builds the card from the
Evaluator's output and the other artifacts of the run, then writes
model_card.json (through its contract, which refuses a card that does not
follow the schema), model_card.md and model_card.html into the output
artifact's folder.
"""

import datetime
import os
from typing import Any, Dict, List, Mapping, Optional

from absl import logging
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2
from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from components import data_report
from components.celeba import local_data
from components.contracts import evaluation as er
from components.contracts import label_balance
from components.contracts import model_card as card_contract
from components.contracts import push_record
from components.explain import served_model
from components.model_card import content
from components.model_card import render
from models import run_record

# Input, output and parameter keys of the component.
EVALUATION_KEY = 'evaluation'
MODEL_KEY = 'model'
DATA_REPORT_KEY = 'data_report'
MODEL_RUN_KEY = 'model_run'
PUSHED_MODEL_KEY = 'pushed_model'
MODEL_CARD_KEY = 'model_card'
DATA_NOTE_KEY = 'data_note'
CODE_DIGEST_KEY = 'code_digest'

# Signature defs that are not signatures a caller can use.
_INTERNAL_SIGNATURES = ('__saved_model_init_op',)


def _tensor_format(name: str, info) -> content.TensorFormat:
  dtype = tf.dtypes.as_dtype(info.dtype).name if info.dtype else '?'
  shape = (() if info.tensor_shape.unknown_rank else tuple(
      None if d.size < 0 else d.size for d in info.tensor_shape.dim))
  return content.TensorFormat(name=name, dtype=dtype, shape=shape)


def signatures_of(model_dir: str) -> Dict[str, content.Signature]:
  """The SavedModel's signatures as its saved_model.pb declares them (read
  from the proto: no variables restored, no graph loaded)."""
  saved = saved_model_pb2.SavedModel()
  with tf.io.gfile.GFile(
      os.path.join(model_dir, served_model.SAVED_MODEL_FILE), 'rb') as f:
    saved.ParseFromString(f.read())
  result = {}
  for meta_graph in saved.meta_graphs:
    for name, signature in meta_graph.signature_def.items():
      if name in _INTERNAL_SIGNATURES:
        continue
      result[name] = content.Signature(
          name=name,
          inputs=tuple(_tensor_format(k, v)
                       for k, v in sorted(signature.inputs.items())),
          outputs=tuple(_tensor_format(k, v)
                        for k, v in sorted(signature.outputs.items())))
  return result


def read_data_report(uri: str
                     ) -> Optional[Dict[str, label_balance.SplitBalance]]:
  path = os.path.join(uri, data_report.BALANCE_JSON)
  if not tf.io.gfile.exists(path):
    return None
  with tf.io.gfile.GFile(path) as f:
    return label_balance.from_json(f.read())


def run_date(run_id: str) -> str:
  """The ISO date of a run id that starts with one (LocalDagRunner's do),
  else today's (UTC)."""
  try:
    return datetime.date.fromisoformat(run_id[:10]).isoformat()
  except ValueError:
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


def is_generated(data_note: str) -> bool:
  """Whether the run's data is the built-in generated sample."""
  return local_data.GENERATED_NOTE in data_note


def write_files(folder: str, card: Dict[str, Any], data_note: str = ''
                ) -> Dict[str, str]:
  """model_card.json, .md and .html in `folder`; file name -> path."""
  paths = {card_contract.CARD_JSON: card_contract.write(folder, card)}
  for name, text in ((card_contract.CARD_MARKDOWN, render.markdown(card)),
                     (card_contract.CARD_HTML, render.page(card, data_note))):
    paths[name] = os.path.join(folder, name)
    with tf.io.gfile.GFile(paths[name], 'w') as f:
      f.write(text)
  return paths


def _single(input_dict: Mapping[str, List[types.Artifact]],
            key: str) -> Optional[types.Artifact]:
  artifacts = input_dict.get(key) or []
  return artifact_utils.get_single_instance(artifacts) if artifacts else None


class Executor(base_executor.BaseExecutor):
  """Writes the model card of the run's candidate model."""

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    self._log_startup(input_dict, output_dict, exec_properties)
    evaluation_artifact = _single(input_dict, EVALUATION_KEY)
    model = _single(input_dict, MODEL_KEY)
    report = _single(input_dict, DATA_REPORT_KEY)
    model_run = _single(input_dict, MODEL_RUN_KEY)
    pushed = _single(input_dict, PUSHED_MODEL_KEY)
    output = artifact_utils.get_single_instance(output_dict[MODEL_CARD_KEY])
    data_note = exec_properties.get(DATA_NOTE_KEY) or ''

    context = self._context
    pipeline_name = (context.pipeline_info.id if context is not None and
                     context.pipeline_info is not None else 'model')
    run_id = (context.pipeline_run_id if context is not None and
              context.pipeline_run_id else '')
    evaluation = er.load_evaluation(evaluation_artifact.uri)
    push = push_record.read(pushed) if pushed is not None else None
    pushed_version = ''
    if push is not None and push.pushed:
      pushed_version = os.path.basename(push.destination.rstrip('/'))
    model_dir = served_model.resolve_model_dir(model.uri)
    card = content.build(
        evaluation, evaluation_artifact.uri,
        run=content.RunInfo(pipeline_name=pipeline_name, run_id=run_id,
                            date=run_date(run_id), model_uri=model_dir,
                            model_id=model.id or None),
        signatures=signatures_of(model_dir),
        balance=read_data_report(report.uri) if report is not None else None,
        training=run_record.read(model_run.uri if model_run else None),
        push=push, pushed_version=pushed_version,
        generated=is_generated(data_note), data_note=data_note)
    paths = write_files(output.uri, card, data_note)
    output.set_string_custom_property('schema_version',
                                      card_contract.SCHEMA_VERSION)
    output.set_string_custom_property('html', card_contract.CARD_HTML)
    logging.info('Model card: %s', paths[card_contract.CARD_HTML])
