# argmine: segment, train, evaluate and label immigration-enforcement op-eds.
#
# CPU image (default):   docker build -t argmine .
# GPU image (CUDA 12.8): docker build -t argmine:gpu --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 .
#
# Run the main job, keeping models, outputs and the MLflow store on the host:
#   docker run --rm -v "$PWD/models:/app/models" -v "$PWD/out:/app/out" -v "$PWD/tracking:/app/tracking" argmine
# Label your own articles (any command of the CLI works the same way):
#   docker run --rm -v "$PWD/models:/app/models" -v "$PWD/my-oped:/data:ro" -v "$PWD/out:/app/out" \
#     argmine label /data --model models/default --out out/my-oped
# On a GPU host add --gpus all to the GPU image.

ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}

# The CPU wheel index keeps the image small; the GPU build points this at a CUDA index instead.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    MLFLOW_DISABLE_TELEMETRY=true \
    ARGMINE_HOME=/app \
    MLFLOW_TRACKING_URI=sqlite:////app/tracking/mlflow.db \
    HF_HOME=/tmp/hf \
    MPLCONFIGDIR=/tmp/matplotlib

RUN useradd --create-home --uid 1000 argmine
WORKDIR /app

# Dependencies first, so code changes do not reinstall torch.
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
RUN pip install --index-url "${TORCH_INDEX}" torch==2.13.0 \
 && pip install .

COPY configs ./configs
COPY data ./data
COPY docs ./docs
COPY models/README.md ./models/README.md
RUN mkdir -p /app/out /app/tracking && chown -R argmine:argmine /app

USER argmine
ENTRYPOINT ["argmine"]
CMD ["demo", "--config", "configs/default.yaml", "--out", "out"]
