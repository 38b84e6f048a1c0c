"""Fixtures for the data tests: one TFDS data_dir per session, in pytest's tmp dirs."""

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """A TFDS data_dir shared by the data tests (never ~/tensorflow_datasets)."""
    return str(tmp_path_factory.mktemp("tfds_data"))
