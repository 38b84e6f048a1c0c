"""export.py: a study's grouping as one SavedModel (each task answered as its group's network
answers it in-process), a Learning to Branch run as its fixed tree, and bad flags."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

import export
import models
from tests.models.helpers import assert_served_equal, served_like_keras

X = {"x": np.random.default_rng(0).normal(size=(5, 16)).astype("float32")}


def served(base):
    loaded = tf.saved_model.load(os.path.join(base, "1"))
    out = loaded.signatures["serving_default"](x=tf.constant(X["x"]))
    return {k: v.numpy() for k, v in out.items()}


@pytest.mark.slow  # the grouping study of tests/conftest.py
def test_a_grouping_exports_as_one_model_answering_with_each_groups_network(
        grouping_study, tmp_path, capsys):
    _, out, _ = grouping_study
    base = str(tmp_path / "grouped")
    assert export.main(["--grouping", out, "--budget", "2", "--seed", "1",
                        "--export_base", base]) == 0
    assert "tasks answered by: y0 <- " in capsys.readouterr().out
    plan = json.load(open(os.path.join(out, "grouping", "seed1", "plan.json")))
    tag = next(g for g in plan["groupings"] if g["kind"] == "tag" and g["budget"] == 2)
    want = {}
    for group in tag["groups"]:
        network = models.load_model(os.path.join(out, plan["runs"]["+".join(group)],
                                                  "best.keras"))
        want.update(served_like_keras(network, network(X, training=False)))
    assert_served_equal(served(base), want)


@pytest.mark.slow
def test_a_learning_to_branch_run_exports_as_its_fixed_tree(grouping_study, tmp_path, capsys):
    _, out, _ = grouping_study
    run = os.path.join(out, "runs", "l2b", "seed0")
    base = str(tmp_path / "l2b")
    assert export.main(["--run", run, "--export_base", base]) == 0
    assert "learning_to_branch, exported as its learned tree" in capsys.readouterr().out
    searched = models.load_model(os.path.join(run, "best.keras"))
    assert_served_equal(served(base), served_like_keras(searched, searched(X, training=False)))
    # No search left: no branching logits [4 tasks, 2 parents], no step counter (a scalar).
    saved = tf.train.list_variables(os.path.join(base, "1", "variables", "variables"))
    shapes = [shape for name, shape in saved if name != "_CHECKPOINTABLE_OBJECT_GRAPH"]
    assert shapes and [] not in shapes and [4, 2] not in shapes


@pytest.mark.parametrize("flags, message", [
    (["--grouping", "{out}"], "--budget: required with --grouping"),
    (["--grouping", "{out}", "--budget", "3"], "--budget: no tag grouping for 3 networks in "
                                               "seed 0; valid: 1, 2, 4"),
    (["--grouping", "{out}", "--budget", "2", "--seed", "7"], "--seed: 7 has no grouping in"),
    (["--grouping", "{out}", "--budget", "2", "--random", "5"],
     "--random: no random grouping for 2 networks, index 5 in seed 0; valid: --budget 2 "
     "--random 0"),
    (["--run", "{out}", "--budget", "2"], "--budget, --seed, --random: only with --grouping"),
    (["--grouping", "{empty}", "--budget", "2"], "has no grouping/seed<k>/plan.json"),
])
def test_bad_grouping_flags_are_config_errors(tmp_path, capsys, flags, message):
    out = tmp_path / "study"
    (out / "grouping" / "seed0").mkdir(parents=True)
    groupings = [{"kind": k, "budget": b, "index": 0, "groups": [], "serving": {}}
                 for k, b in (("tag", 1), ("tag", 2), ("tag", 4), ("random", 2))]
    (out / "grouping" / "seed0" / "plan.json").write_text(json.dumps(
        {"seed": 0, "groupings": groupings, "runs": {}}))
    args = [f.format(out=out, empty=tmp_path) for f in flags] + ["--export_base",
                                                                   str(tmp_path / "e")]
    assert export.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("config error: ") and message in err, err
