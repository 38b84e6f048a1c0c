"""A run's share of the cores (`study.py --threads_per_run K`, training/study/threads.py): the
flag is in the environment while the study runs and put back after;
a `train.py` subprocess inherits it and its TensorFlow really starts K intra-op threads; bad
values exit 2 naming the flag. No training: the subprocess is a few TensorFlow ops."""

import json
import os
import sys
import types

import pytest

import study
from training.study import runner, threads

# Counts TensorFlow's intra-op pool threads (`tf_Compute`, by Linux thread name) after an op.
PROBE = """\
import json, os, sys
import tensorflow as tf
tf.matmul(tf.ones((64, 64)), tf.ones((64, 64))).numpy()
names = [open(f"/proc/self/task/{t}/comm").read().strip() for t in os.listdir("/proc/self/task")]
json.dump({"env": {k: os.environ.get(k) for k in sys.argv[2:]},
           "intra_op": names.count("tf_Compute")}, open(sys.argv[1], "w"))
"""


@pytest.fixture
def clean_environ(monkeypatch):
    for name in threads.VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("flags, expected", [
    (["--jobs", "2"], None),  # no flag: TensorFlow's own sizing, whatever --jobs
    (["--jobs", "2", "--threads_per_run", "3"], "3"),
    (["--jobs", "0", "--threads_per_run", "1"], "1"),
    (["--jobs", "2", "--threads_per_run", "0"], None),  # TensorFlow's own sizing
    (["--jobs", "1"], None),
])
def test_the_flag_is_in_the_environment_while_the_study_runs(monkeypatch, clean_environ,
                                                            flags, expected):
    seen = {}
    monkeypatch.setattr(study, "run", lambda args, output: seen.update(
        {name: os.environ.get(name) for name in threads.VARIABLES}) or 0)
    assert study.main(["--config", "any.yaml", *flags]) == 0
    assert seen == dict.fromkeys(threads.VARIABLES, expected)
    assert not any(name in os.environ for name in threads.VARIABLES)  # put back


def test_a_thread_count_the_user_set_is_kept_without_the_flag(monkeypatch):
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "5")
    with threads.applied(None) as per_run:
        assert per_run == 5 and os.environ["TF_NUM_INTRAOP_THREADS"] == "5"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread names from /proc")
def test_a_train_subprocess_inherits_k_and_its_tensorflow_starts_k_intra_op_threads(
        tmp_path, monkeypatch, clean_environ):
    k = 1 if len(os.sched_getaffinity(0)) > 1 else 3  # not TensorFlow's own sizing (every core)
    report = tmp_path / "threads.json"
    monkeypatch.setattr(runner, "train_command", lambda run: [
        sys.executable, "-c", PROBE, str(report), *threads.VARIABLES])
    run = types.SimpleNamespace(run_dir=str(tmp_path))
    with threads.applied(k):
        status, _, _ = runner.run_subprocess(run, beat=lambda: True, interval=60)
    assert status == 0, (tmp_path / "train.log").read_text()
    seen = json.loads(report.read_text())
    assert seen == {"env": dict.fromkeys(threads.VARIABLES, str(k)), "intra_op": k}


def test_bad_values_exit_2_naming_the_flag(capsys):
    assert study.main(["--config", "any.yaml", "--threads_per_run", "-1"]) == 2
    assert capsys.readouterr().err == "config error: --threads_per_run: must be >= 0\n"
    with pytest.raises(SystemExit) as exit_:
        study.main(["--config", "any.yaml", "--threads_per_run", "two"])
    assert exit_.value.code == 2
    assert "argument --threads_per_run: invalid int value: 'two'" in capsys.readouterr().err
