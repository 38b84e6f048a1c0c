"""Shared fixtures: one small multi_mnist build per test session, tiny configs, and two small
studies run once per session (one with task grouping), and a tiny protocol study."""

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


GROUPING_BASE = """
data:
  name: planted_groups
  options: {{num_groups: 2, tasks_per_group: 2, train_size: 128, validation_size: 32,
             test_size: 32}}
  data_dir: {data_dir}
model:
  architecture: shared_bottom
  encoder: mlp
  encoder_args: {{units: [8]}}
  args: {{tower_units: [4]}}
train: {{epochs: 1, batch_size: 32, learning_rate: 0.01, diagnostics_per_epoch: 0,
        affinity_per_epoch: 0, gate_diagnostics: false}}
"""

GROUPING_STUDY = """
base: {base}
seeds: 2
seed_keys: [train.seed, data.options.seed]
grid:
  architecture:
    shared_bottom: {{}}
    l2b: {{model.architecture: learning_to_branch, train.gate_diagnostics: true,
          model.args: {{branches: [2], tower_units: [4], search_steps: 4}}}}
grouping: {{affinity_epochs: 1, affinity_per_epoch: 2, budgets: [2], random: 1}}
"""


@pytest.fixture(scope="session")
def grouping_study(tmp_path_factory):
    """A 4-task planted_groups study with `grouping:` and a Learning to Branch cell, 2 seeds,
    run in-process once per session: (study file, study dir, exit code)."""
    import study

    root = tmp_path_factory.mktemp("grouping")
    base = root / "base.yaml"
    base.write_text(GROUPING_BASE.format(data_dir=root / "tfds"))
    path = root / "study.yaml"
    path.write_text(GROUPING_STUDY.format(base=base))
    path, out = str(path), str(root / "out")
    return path, out, study.main(["--config", path, "--output", out, "--jobs", "0"])


PROTOCOL_STUDY = os.path.join(REPO, "tests", "training", "protocols", "mmoe_paper_tiny.yaml")


@pytest.fixture(scope="session")
def protocol_study(tmp_path_factory):
    """The tiny `protocol: mmoe_paper` study run three times, in-process: first through
    `study.py` with a budget that stops it after one chunk, then to the end, then once
    more with nothing left. (study file, study dir, [(exit code, log lines, chunk
    files' mtimes after the call)] of the three calls)."""
    import glob

    import study
    from training.protocols import run_study

    out = str(tmp_path_factory.mktemp("protocol") / "out")

    def mtimes():
        return {p: os.path.getmtime(p) for p in glob.glob(f"{out}/chunks/**/*.npz",
                                                          recursive=True)}
    calls = [(study.main(["--config", PROTOCOL_STUDY, "--output", out, "--max_minutes",
                          "0.0001"]), [], mtimes())]
    for _ in range(2):
        lines = []
        calls.append((run_study(PROTOCOL_STUDY, out, log=lines.append), lines, mtimes()))
    return PROTOCOL_STUDY, out, calls
