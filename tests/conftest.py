"""Shared fixtures: one small multi_mnist build per test session, and tiny configs."""

import os

import pytest

from tests.helpers import REPO


@pytest.fixture(scope="session")
def multi_mnist_dir(tmp_path_factory):
    """A TFDS data_dir holding the offline `multi_mnist` (built once per session)."""
    import data
    from data import pipeline

    data_dir = str(tmp_path_factory.mktemp("tfds"))
    pipeline.prepare(data.get_dataset("multi_mnist"), data_dir)
    return data_dir


def tiny_config(data_dir, **overrides):
    """configs/tiny.yaml with `data.data_dir` set and `key=value` overrides."""
    from training.config import load_config

    sets = [f"data.data_dir={data_dir}"] + [f"{k}={v}" for k, v in overrides.items()]
    return load_config(os.path.join(REPO, "configs", "tiny.yaml"), sets)


SMALL_STUDY = """\
base: {base}
seeds: 2
grid:
  architecture:
    shared_bottom: {{model.architecture: shared_bottom}}
    mmoe: {{model.architecture: mmoe, model.args: {{num_experts: 2, expert_units: [8], tower_units: [4]}}}}
  train.weighting: [equal]
tuned_equal:
  train.learning_rate: [0.01, 0.03]
"""

SMALL_BASE = """\
data:
  name: mmoe_synthetic
  options: {{train_size: 160, validation_size: 64, test_size: 64, dim: 8}}
  data_dir: {data_dir}
model:
  encoder: mlp
  encoder_args: {{units: [8]}}
  args: {{tower_units: [4]}}
train:
  epochs: 2
  batch_size: 32
  learning_rate: 0.01
"""


@pytest.fixture(scope="session")
def small_study(tmp_path_factory):
    """A 2-cell x 2-seed study (single-task baselines, a 2-setting tuned equal weighting) on a
    tiny mmoe_synthetic, run in-process once per session: (study file, study dir, exit code)."""
    import study

    root = tmp_path_factory.mktemp("study")
    base = root / "base.yaml"
    base.write_text(SMALL_BASE.format(data_dir=root / "tfds"))
    path = root / "small.yaml"
    path.write_text(SMALL_STUDY.format(base=base))
    out = root / "out"
    code = study.main(["--config", str(path), "--output", str(out), "--jobs", "0"])
    return str(path), str(out), code
