"""Starts a run of a compiled package on Vertex AI Pipelines.

A thin use of google-cloud-aiplatform's `PipelineJob` (installed with TFX):
building the job reads the package and assembles the CreatePipelineJob
request locally; only `submit` talks to Vertex. Kept apart from the runner so
the request can be checked without a network (tests/test_kubeflow_submit.py).
"""

from typing import Dict, Optional

from google.auth import credentials as auth_credentials
from google.cloud import aiplatform

from pipeline import kubeflow_spec


def make_job(package_path: str, *, project: str, region: str,
             pipeline_root: str,
             display_name: Optional[str] = None,
             enable_caching: Optional[bool] = None,
             labels: Optional[Dict[str, str]] = None,
             credentials: Optional[auth_credentials.Credentials] = None
             ) -> aiplatform.PipelineJob:
  """A Vertex PipelineJob for the package (PipelineJob JSON or PipelineSpec).

  Args:
    package_path: what kubeflow_runner.py wrote.
    project: GCP project the run belongs to.
    region: Vertex AI region, e.g. 'us-central1'.
    pipeline_root: gs:// root for the run's artifacts (the package carries
      the same one; passing it keeps a stale package from writing elsewhere).
    display_name: shown in the console (default: the pipeline name).
    enable_caching: None keeps the package's per-task setting.
    labels: run labels.
    credentials: None uses Application Default Credentials.
  """
  if not pipeline_root.startswith('gs://'):
    raise ValueError(f'Vertex AI needs a gs:// pipeline root, got '
                     f'{pipeline_root!r}')
  if display_name is None:
    display_name = kubeflow_spec.load_pipeline_spec(
        package_path).pipeline_info.name
  return aiplatform.PipelineJob(
      display_name=display_name,
      template_path=package_path,
      pipeline_root=pipeline_root,
      enable_caching=enable_caching,
      labels=labels,
      project=project,
      location=region,
      credentials=credentials)


def submit(job: aiplatform.PipelineJob,
           service_account: Optional[str] = None) -> None:
  """Sends the CreatePipelineJob request; returns once Vertex accepted it."""
  job.submit(service_account=service_account)
