"""One trainer for one device, MirroredStrategy and MultiWorkerMirroredStrategy.

Each case runs in subprocesses (`distributed_worker.py`): logical devices and a
multi-worker cluster must be set before TensorFlow starts.
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WORKER = os.path.join(HERE, "distributed_worker.py")


def run_worker(*args, env=None, timeout=240):
    return subprocess.Popen([sys.executable, WORKER, *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(proc, timeout=240):
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"worker timed out:\n{out[-3000:]}")
    assert proc.returncode == 0, out[-3000:]
    return out


@pytest.mark.slow
def test_mirrored_strategy_matches_one_device(tmp_path):
    path = str(tmp_path / "weights.npz")
    finish(run_worker("mirrored", path))
    got = np.load(path)
    for method in ("equal", "pcgrad"):
        n = len([k for k in got if k.startswith(f"{method}/one/") and k[-1].isdigit()])
        assert n > 0
        for i in range(n):
            np.testing.assert_allclose(got[f"{method}/mirrored/{i}"], got[f"{method}/one/{i}"],
                                       rtol=1e-4, atol=1e-5, err_msg=f"{method} weight {i}")
        assert float(got[f"{method}/mirrored/val_loss"]) == pytest.approx(
            float(got[f"{method}/one/val_loss"]), rel=1e-4)


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.mark.slow
def test_multi_worker_ends_with_identical_weights_and_only_the_chief_writes(tmp_path):
    workers = [f"127.0.0.1:{p}" for p in free_ports(2)]
    procs, outs = [], []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps(
            {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}))
        procs.append(run_worker("multi_worker", str(tmp_path / f"run{index}"),
                                str(tmp_path / f"w{index}.npz"), env=env))
    for p in procs:
        outs.append(finish(p))
    w0, w1 = np.load(tmp_path / "w0.npz"), np.load(tmp_path / "w1.npz")
    assert len(w0.files) > 2
    for key in w0.files:
        np.testing.assert_array_equal(w0[key], w1[key], err_msg=key)
    chief = tmp_path / "run0"
    assert {"checkpoints", "best.keras", "history.json", "logs"} <= set(os.listdir(chief))
    assert not (tmp_path / "run1").exists() or not os.listdir(tmp_path / "run1")
