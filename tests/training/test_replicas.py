"""Seeds in one graph: a replica equals its own run (history, metrics, best model, export),
a killed group resumes, what does not qualify is refused with one line, and a study
with `one_graph: true` trains each cell's seeds in one graph and falls back, with one line,
where a cell does not fit."""

import json
import os
import re

import numpy as np
import pytest

from tests.helpers import REPO

# Relative difference allowed between a replica and its own run on every logged number
# (float rounding of batched against plain matmuls; 1.1e-7 measured, `pytest -s` prints it).
TOLERANCE = 1e-5
SEEDS = (0, 1, 2)


def config(tmp_path, seed, *sets):
    from training.config import load_config

    return load_config(os.path.join(REPO, "configs", "mmoe_synthetic.yaml"), [
        f"train.seed={seed}", f"data.options.seed={seed}", "data.options.dim=10",
        "data.options.train_size=300", "data.options.validation_size=100",
        "data.options.test_size=100", "train.epochs=3", "train.batch_size=64",
        "train.diagnostics_per_epoch=0", "train.affinity_per_epoch=0",
        "train.gate_diagnostics=false", f"data.data_dir={tmp_path / 'tfds'}", *sets])


def group(tmp_path, name, *sets, seeds=SEEDS):
    from training.experiment import Experiment
    from training.replicas.group import ReplicaGroup

    return ReplicaGroup([Experiment(config(tmp_path, s, *sets)) for s in seeds],
                        [str(tmp_path / name / f"seed{s}") for s in seeds],
                        str(tmp_path / name / "group"),
                        seed_keys=["train.seed", "data.options.seed"], verbose=0)


def numbers(tree, prefix=""):
    """{path: float} of every float in nested dicts/lists (step and epoch times left out)."""
    if isinstance(tree, dict):
        return {k: v for key, value in tree.items() if not key.endswith(("_time_ms", "_time_s",
                                                                         "memory_mb"))
                for k, v in numbers(value, f"{prefix}/{key}").items()}
    if isinstance(tree, list):
        return {k: v for i, value in enumerate(tree) for k, v in numbers(value, f"{prefix}/{i}").items()}
    return {prefix: float(tree)} if isinstance(tree, float) else {}


def assert_close(got, want):
    """Every number of `got` within TOLERANCE of `want`; returns the largest relative
    difference among numbers above 1e-3 (printed by the equivalence test: `pytest -s`)."""
    got, want = numbers(got), numbers(want)
    assert got.keys() == want.keys()
    for key in want:
        assert got[key] == pytest.approx(want[key], rel=TOLERANCE, abs=1e-6), key
    return max((abs(got[k] - want[k]) / abs(want[k]) for k in want if abs(want[k]) > 1e-3),
               default=0.0)


@pytest.fixture(scope="module")
def replicas(tmp_path_factory):
    """Three seeds (each drawing its own data) trained as one group: (tmp dir, results)."""
    tmp_path = tmp_path_factory.mktemp("replicas")
    return tmp_path, group(tmp_path, "group").train()


def read(path):
    with open(path) as f:
        return json.load(f)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [2])
def test_a_replica_matches_its_own_run(replicas, seed):
    import models
    from training.experiment import Experiment

    tmp_path, results = replicas
    own = tmp_path / f"own{seed}"
    want = Experiment(config(tmp_path, seed)).train(str(own), verbose=0)
    run = tmp_path / "group" / f"seed{seed}"
    largest = max(
        assert_close(results[SEEDS.index(seed)], want),
        assert_close(read(run / "metrics.json"), read(own / "metrics.json")),
        assert_close(read(run / "history.json"), read(own / "history.json")),
        assert_close(read(run / "evaluation_validation.json"),
                     read(own / "evaluation_validation.json")))
    print(f"largest relative difference, replica vs its own run: {largest:.1e}")
    x = {"x": np.random.default_rng(0).normal(size=(16, 10)).astype("float32")}
    mine, theirs = (models.load_model(str(d / "best.keras")).predict(x, verbose=0)
                    for d in (run, own))
    np.testing.assert_allclose(mine["y1"], theirs["y1"], rtol=TOLERANCE, atol=1e-5)


@pytest.mark.slow  # the group fixture: ~50 s on a busy machine
def test_replicas_draw_their_own_data_and_weights(replicas):
    tmp_path, results = replicas
    rmse = [r["y1"]["rmse"] for r in results]
    assert len(set(rmse)) == len(SEEDS)
    counts = results[0]["y1"]["label_counts"]
    assert counts["train"] == {"labelled": 300, "examples": 300}


@pytest.mark.slow  # the group fixture: ~50 s on a busy machine
def test_a_replica_run_exports_like_any_run(replicas, tmp_path):
    import export

    run = replicas[0] / "group" / "seed1"
    assert export.main(["--run", str(run), "--export_base", str(tmp_path / "exported")]) == 0
    assert os.path.exists(tmp_path / "exported" / "1" / "saved_model.pb")


@pytest.mark.slow
def test_a_killed_group_resumes_where_it_stopped(replicas):
    tmp_path, results = replicas
    killed = group(tmp_path, "killed", seeds=SEEDS[:2]).build()

    def stop(epoch):
        killed._save(epoch)
        if epoch == 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        killed.trainer.fit(3, on_epoch_end=stop)
    resumed = group(tmp_path, "killed", seeds=SEEDS[:2]).train(resume=True)
    assert len(resumed) == 2
    for got, want in zip(resumed, results):
        assert_close(got, want)
    assert len(read(tmp_path / "killed" / "seed0" / "history.json")) == 3


def test_a_checkpoint_of_other_runs_is_not_resumed(tmp_path):
    """A study whose pending seeds changed (more seeds) must not load a group checkpoint
    made for other runs: the group starts afresh."""
    g = group(tmp_path, "changed", seeds=(0, 1))
    os.makedirs(g.checkpoint_dir)
    info = {"epoch": 2, "run_dirs": [str(tmp_path / "changed" / "seed0")]}
    np.savez(g._path(), info=np.array(json.dumps(info)))
    assert g._restore() == 0


@pytest.mark.parametrize("sets, reason", [
    (["train.weighting=pcgrad"], "weighting 'pcgrad' (one graph takes: equal, static)"),
    (["train.optimizer_args={clipnorm: 1.0}"], "train.optimizer_args.clipnorm"),
    (["train.gate_diagnostics=true"], "diagnostics (set train.diagnostics_per_epoch=0"),
    (["data.sampling={steps_per_epoch: 3}"], "data.sources / data.sampling.steps_per_epoch"),
])
def test_what_does_not_fit_one_graph_is_refused_in_one_line(tmp_path, sets, reason):
    from training.replicas.group import Unsupported

    with pytest.raises(Unsupported) as e:
        group(tmp_path, "refused", *sets)
    assert str(e.value).startswith(reason) and "\n" not in str(e.value)


@pytest.mark.parametrize("sets, reason", [
    (["model.encoder_args={units: [16], dropout: 0.1}"],
     r"layer \S+ \(Dropout\) draws random numbers or keeps training state"),
    (["model.architecture=learning_to_branch", "model.args={tower_units: [8]}"],
     r"layer \S+ \(\w+\) draws random numbers or keeps training state"),
    (["model.architecture=soft_sharing", "model.args={tower_units: [8]}"],
     r"the model adds losses of its own \(layer.add_loss\)"),
])
def test_a_model_that_does_not_fit_is_refused_in_one_line_when_built(tmp_path, sets, reason):
    from training.replicas.group import Unsupported

    with pytest.raises(Unsupported) as e:
        group(tmp_path, "refused", *sets, seeds=(0, 1)).build()
    assert re.fullmatch(reason, str(e.value))


def test_runs_that_differ_in_more_than_seeds_are_refused(tmp_path):
    from training.experiment import Experiment
    from training.replicas.group import ReplicaGroup, Unsupported

    configs = [config(tmp_path, 0), config(tmp_path, 1, "train.learning_rate=0.01")]
    with pytest.raises(Unsupported, match="differ in more than their seeds"):
        ReplicaGroup([Experiment(c) for c in configs], ["a", "b"], "g",
                     seed_keys=["train.seed", "data.options.seed"])


ONE_GRAPH_STUDY = """\
base: {base}
seeds: 2
set: [train.diagnostics_per_epoch=0, train.affinity_per_epoch=0, train.gate_diagnostics=false]
single_task: false
one_graph: true
grid:
  train.weighting: [equal, pcgrad]
"""


@pytest.mark.slow
def test_a_one_graph_study_falls_back_with_one_line_where_a_cell_does_not_fit(tmp_path, capsys):
    import study
    from tests.conftest import SMALL_BASE

    base = tmp_path / "base.yaml"
    base.write_text(SMALL_BASE.format(data_dir=tmp_path / "tfds"))
    path = tmp_path / "one_graph.yaml"
    path.write_text(ONE_GRAPH_STUDY.format(base=base))
    out = tmp_path / "out"
    assert study.main(["--config", str(path), "--output", str(out), "--jobs", "0"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert "one_graph: cell pcgrad: one run per process instead: weighting 'pcgrad' " \
           "(one graph takes: equal, static)" in printed
    assert any(line.startswith("one_graph: cell equal: 2 seeds in one graph") for line in printed)
    content = json.load(open(out / "study.json"))
    assert [r["status"] for r in content["runs"]] == ["done"] * 4
    for cell, replicas in (("equal", 2), ("pcgrad", None)):
        for seed in (0, 1):
            run = out / "runs" / cell / f"seed{seed}"
            assert read(run / "study_run.json").get("replicas") == replicas
            assert os.path.exists(run / "best.keras") and os.path.exists(run / "metrics.json")
