"""deploy/ manifests for studies and multi-worker training, validated offline (no cluster here):
Kubernetes schemas (strict), the Kubeflow TFJob field by field, the flags each container
passes parse with our scripts' own parsers, the study a worker runs plans, and the
TF_CONFIG each indexed pod builds names every worker and its own index. The training image's
Dockerfile lints clean."""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest
import yaml

import study
import train
from tests.helpers import REPO

DEPLOY = os.path.join(REPO, "deploy")


def _docs(name):
    with open(os.path.join(DEPLOY, name)) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def _one(name, kind):
    (doc,) = [d for d in _docs(name) if d["kind"] == kind]
    return doc


@pytest.mark.parametrize("name", ["study-workers.yaml", "training-multiworker.yaml"])
def test_manifests_validate_against_the_bundled_kubernetes_schemas(name):
    import kubernetes_validate

    for doc in _docs(name):
        kubernetes_validate.validate(doc, "1.33.0", strict=True)  # raises on any error


def _mounted(container, path):
    return any(path == m["mountPath"] or path.startswith(m["mountPath"].rstrip("/") + "/")
               for m in container.get("volumeMounts", []))


def test_study_workers_are_an_indexed_job_on_a_storage_from_a_secret(capsys):
    job = _one("study-workers.yaml", "Job")
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"] >= 2
    (container,) = spec["template"]["spec"]["containers"]
    assert container["command"] == ["python", "study.py"]
    args = container["args"]
    assert "--worker" in args and "--storage=$(STORAGE_URL)" in args
    (env,) = [e for e in container["env"] if e["name"] == "STORAGE_URL"]
    assert set(env["valueFrom"]["secretKeyRef"]) == {"name", "key"}
    flags = dict(a[2:].split("=", 1) for a in args if "=" in a)
    assert _mounted(container, flags["output"])
    assert _mounted(container, flags["set"].split("=", 1)[1])  # data.data_dir
    # Each run's threads are the pod's CPUs, not the node's cores.
    assert flags["threads_per_run"] == container["resources"]["requests"]["cpu"]
    # The worker's flags parse, and its study plans (--plan opens no storage).
    assert study.main(args + ["--plan"]) == 0
    assert "to run" in capsys.readouterr().out


def _train_args(args):
    parsed = train.parse_args(args)
    assert parsed.strategy == "multi_worker" and parsed.resume == "auto"
    return parsed


def test_tfjob_fields():
    doc = _one("training-tfjob.yaml", "TFJob")
    assert doc["apiVersion"] == "kubeflow.org/v1"
    worker = doc["spec"]["tfReplicaSpecs"]["Worker"]
    assert worker["replicas"] >= 2 and worker["restartPolicy"] in ("OnFailure", "ExitCode")
    (container,) = worker["template"]["spec"]["containers"]
    assert container["name"] == "tensorflow"  # the name the training operator looks for
    assert container["command"] == ["python", "train.py"]
    parsed = _train_args(container["args"])
    assert _mounted(container, parsed.output)
    assert {"name": "tfjob-port", "containerPort": 2222} in container["ports"]
    claims = {v["name"] for v in worker["template"]["spec"]["volumes"]}
    assert {m["name"] for m in container["volumeMounts"]} <= claims


def test_multiworker_job_builds_tf_config_for_each_pod(tmp_path):
    service = _one("training-multiworker.yaml", "Service")
    job = _one("training-multiworker.yaml", "Job")
    pod = job["spec"]["template"]["spec"]
    assert service["spec"]["clusterIP"] == "None" and pod["subdomain"] == service["metadata"]["name"]
    assert service["spec"]["selector"] == {"job-name": job["metadata"]["name"]}
    (container,) = pod["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    workers = int(env["WORKERS"])
    assert job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["completions"] == job["spec"]["parallelism"] == workers
    script = container["args"][0]
    snippet = re.search(r"python -c '(.*?)'\)", script, re.S).group(1)
    want = [f"{env['JOB_NAME']}-{i}.{env['SERVICE']}:{env['PORT']}" for i in range(workers)]
    for index in range(workers):
        out = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True,
                             env=dict(os.environ, **env, JOB_COMPLETION_INDEX=str(index)),
                             check=True).stdout
        assert json.loads(out) == {"cluster": {"worker": want},
                                   "task": {"type": "worker", "index": index}}
    assert int(env["PORT"]) == container["ports"][0]["containerPort"] == \
        service["spec"]["ports"][0]["targetPort"]
    command = shlex.split(script.split("exec ", 1)[1].replace("\\\n", " "))
    assert command[:2] == ["python", "train.py"]
    assert _mounted(container, _train_args(command[2:]).output)


def test_training_image_lints_clean_and_keeps_the_venv_out():
    exe = os.path.join(os.path.dirname(sys.executable), "hadolint")
    exe = exe if os.path.exists(exe) else shutil.which("hadolint")
    path = os.path.join(REPO, "docker", "train.Dockerfile")
    result = subprocess.run([exe, path], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    text = open(path).read()
    assert re.search(r"^FROM python:3\.11\.\d+-slim-\S+$", text, re.M)
    assert "COPY requirements.txt" in text
    ignored = open(path + ".dockerignore").read().split()
    assert {".venv", "runs", "tfds_data"} <= set(ignored)
    for name in ("study-workers.yaml", "training-tfjob.yaml", "training-multiworker.yaml"):
        assert "docker build -f docker/train.Dockerfile -t mtl-zoo-train:latest ." in \
            open(os.path.join(DEPLOY, name)).read()
