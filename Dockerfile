# The pipeline image: TFX 1.16 with this package installed.
#
# Every Kubeflow Pipelines / Vertex AI step runs in it (kubeflow_runner.py
# --image) as `python -m pipeline.kfp_entrypoint` (this package's entrypoint,
# which restores the input types KFP 2.x leaves empty, then runs TFX's): the
# compiled package names executors and the Transform/Trainer code by import
# path and refers to files under /pipeline, so nothing is uploaded at compile
# time. The base image's entrypoint is Beam's SDK worker
# boot, so the same image can also serve as a Dataflow/Flink/Spark worker.
#
#   docker build -t REGISTRY/celeba-tfx:0.1.0 .
#
# The tag below must match the tfx pin in setup.py
# (tests/test_kubeflow_image.py checks it). The same image is published on
# Docker Hub as tensorflow/tfx:1.16.0.
FROM gcr.io/tfx-oss-public/tfx:1.16.0

# The base image's entrypoint is Beam's SDK worker boot, so this image can be
# the Beam workers' container too (Dataflow --sdk_container_image, a Flink or
# Spark DOCKER environment or worker pool). `pip install .` below installs the
# apache-beam version setup.py pins; take the boot of that same version.
COPY --from=apache/beam_python3.10_sdk:2.74.0 /opt/apache/beam /opt/apache/beam

# TF 2.16 defaults to Keras 3; TFT, TFMA and the Trainer need Keras 2. oneDNN's
# CPU kernels also on AVX2-only CPUs, as locally (models/__init__.py). Set for
# every process in the image (kubeflow_runner.py also sets them per step).
ENV TF_USE_LEGACY_KERAS=1 TF_ENABLE_ONEDNN_OPTS=1

# kubeflow_runner.IMAGE_SOURCE_DIR: the compiled package reads
# /pipeline/schema/schema.pbtxt, and Beam jobs ship /pipeline/setup.py
# (--setup_file) to their workers.
WORKDIR /pipeline
COPY . .

# The same pinned stack as the tested environment (constraints.txt).
RUN python -m pip install --no-cache-dir -c constraints.txt .
