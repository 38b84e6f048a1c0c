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
