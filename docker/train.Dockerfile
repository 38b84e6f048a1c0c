# The training image: this repository and its pinned requirements, for study workers and
# multi-worker training on a cluster (deploy/study-workers.yaml, deploy/training-*.yaml).
#   docker build -f docker/train.Dockerfile -t mtl-zoo-train:latest .
# Its build context is the repository without the venv, data and runs
# (docker/train.Dockerfile.dockerignore, read by BuildKit instead of .dockerignore).
FROM python:3.11.13-slim-bookworm

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
ENV TF_CPP_MIN_LOG_LEVEL=2 \
    PYTHONUNBUFFERED=1

CMD ["python", "train.py", "--help"]
