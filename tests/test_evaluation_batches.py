"""The Evaluator's batches are split to a bound, in order, with every key."""

import apache_beam as beam
from apache_beam.testing import util as beam_util
import numpy as np
import pyarrow as pa
import tensorflow_model_analysis as tfma

from components import evaluation_batches
from tests import beam_pipelines

_INPUT = tfma.constants.INPUT_KEY
_ARROW = tfma.constants.ARROW_RECORD_BATCH_KEY


def _extracts(rows: int):
  ids = list(range(rows))
  return {_ARROW: pa.RecordBatch.from_arrays([pa.array(ids)], ['id']),
          _INPUT: np.array([str(i).encode() for i in ids], dtype=object),
          'shared': 'one value for the whole batch'}


def test_a_batch_counts_its_rows():
  batch = pa.RecordBatch.from_arrays([pa.array([1, 2, 3])], ['x'])
  assert evaluation_batches.batch_size({_ARROW: batch}) == 3
  assert evaluation_batches.batch_size(
      {_INPUT: np.array([b'a', b'b', b'c'], dtype=object)}) == 3
  assert evaluation_batches.batch_size({_INPUT: [b'a', b'b']}) == 2
  assert evaluation_batches.batch_size({}) == 1


def test_a_large_batch_is_split_in_order_with_every_key():
  pieces = list(evaluation_batches.split(_extracts(40), max_size=16))
  assert [evaluation_batches.batch_size(p) for p in pieces] == [16, 16, 8]
  ids = [i for p in pieces for i in p[_ARROW].column('id').to_pylist()]
  assert ids == list(range(40))
  inputs = [x for p in pieces for x in p[_INPUT]]
  assert inputs == [str(i).encode() for i in range(40)]
  for piece in pieces:
    assert set(piece) == {_ARROW, _INPUT, 'shared'}
    assert piece['shared'] == 'one value for the whole batch'
    assert len(piece[_INPUT]) == piece[_ARROW].num_rows


def test_a_batch_within_the_bound_passes_as_it_is():
  extracts = _extracts(16)
  (piece,) = evaluation_batches.split(extracts, max_size=16)
  assert piece is extracts


def test_the_stage_bounds_every_batch_in_a_pipeline():
  with beam_pipelines.local() as p:
    sizes = (p | beam.Create([_extracts(3), _extracts(33)], reshuffle=False)
             | evaluation_batches.bound_extractor(max_size=16).ptransform
             | beam.Map(evaluation_batches.batch_size))
    beam_util.assert_that(sizes, beam_util.equal_to([3, 16, 16, 1]))
