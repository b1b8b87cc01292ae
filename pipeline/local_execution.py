"""Runs the DAG with LocalDagRunner under a run id this process chooses.

LocalDagRunner names each run by the time it starts, inside `run`, so a
runner that wants to report on its own run afterwards can only guess which
run in the store is its own, and the newest one may belong to another
process. Compiling the DAG here and substituting the run id before handing
the IR to `run_with_ir` gives the run a name known in advance: the summary,
the report and the exit status then describe this run and no other.
"""

from tfx.dsl.compiler import compiler
from tfx.dsl.compiler import constants
from tfx.orchestration import pipeline as tfx_pipeline
from tfx.orchestration.local import local_dag_runner
from tfx.orchestration.portable import runtime_parameter_utils


def run(dag: tfx_pipeline.Pipeline, run_id: str) -> None:
  """Compiles `dag` and runs it locally as run `run_id`."""
  ir = compiler.Compiler().compile(dag)
  runtime_parameter_utils.substitute_runtime_parameter(
      ir, {constants.PIPELINE_RUN_ID_PARAMETER_NAME: run_id})
  local_dag_runner.LocalDagRunner().run_with_ir(ir)
