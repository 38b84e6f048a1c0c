"""measure: a grouping's measured result takes each task from its serving group's network;
rows per budget, paired differences, the prediction's rank correlation and the recovery of
a planted grouping, on hand-made plans and test metrics."""

import numpy as np
import pytest

from tasks import Task
from training.baselines import delta_m
from training.grouping.measure import measure, partition_of_tree, same_partition

TASKS = (Task("a", "regression"), Task("b", "regression"), Task("c", "regression"))
PRIMARY = {t.name: ("rmse", False) for t in TASKS}


def metrics(**rmse):
    """Test metrics of one run: each task's rmse, and a loss of rmse squared."""
    return {t: {"rmse": v, "loss": v * v} for t, v in rmse.items()}


def grouping(kind, budget, groups, score, index=0):
    serving = {t: i for i, g in enumerate(groups) for t in g}
    return {"kind": kind, "index": index, "budget": budget, "groups": groups, "serving": serving,
            "score": score, "gain_over_one_network": score - 0.1}


def plan(seed, shift=0.0):
    """Seed `seed`'s plan: a and b help each other, c is better alone."""
    runs = {"a": f"a{seed}", "b": f"b{seed}", "c": f"c{seed}", "a+b+c": f"abc{seed}",
            "a+b": f"ab{seed}", "a+c": f"ac{seed}"}
    tests = {f"a{seed}": metrics(a=1.0), f"b{seed}": metrics(b=2.0), f"c{seed}": metrics(c=1.0),
             f"abc{seed}": metrics(a=0.9, b=1.9, c=1.3 + shift),
             f"ab{seed}": metrics(a=0.8 - shift, b=1.6),
             f"ac{seed}": metrics(a=1.2, c=1.1)}
    groupings = [grouping("tag", 1, [["a", "b", "c"]], 0.1),
                 grouping("tag", 2, [["a", "b"], ["c"]], 0.3),
                 grouping("random", 2, [["a", "c"], ["b"]], 0.05),
                 grouping("tag", 3, [["a"], ["b"], ["c"]], 0.0)]
    return {"affinity": {"tasks": ["a", "b", "c"], "matrix": np.eye(3).tolist()},
            "groupings": groupings, "runs": runs, "truth": [["a", "b"], ["c"]]}, tests


def section(trees=()):
    plans, tests = {}, {}
    for seed, shift in ((0, 0.0), (1, 0.05), (2, 0.1)):
        plans[seed], more = plan(seed, shift)
        tests.update(more)
    return measure(plans, tests, TASKS, PRIMARY, {s: p["truth"] for s, p in plans.items()},
                   trees)


def test_each_task_is_measured_on_its_serving_groups_network():
    out = section()
    tag2 = next(g for g in out["plans"]["0"]["groupings"] if g["kind"] == "tag"
                and g["budget"] == 2)
    # a and b from the a+b network, c alone: Δm is the single-run formula on those.
    single = metrics(a=1.0, b=2.0, c=1.0)
    want = delta_m(metrics(a=0.8, b=1.6, c=1.0), single, TASKS, PRIMARY)["delta_m"]
    assert tag2["measured"]["delta_m"] == pytest.approx(want)
    assert tag2["measured"]["loss_gain"] == pytest.approx(
        100 * np.mean([1 - 0.64, 1 - 2.56 / 4, 0.0]))
    assert tag2["measured"]["tasks"] == {"a": 0.8, "b": 1.6, "c": 1.0}


def test_rows_per_budget_with_paired_differences_over_seeds():
    rows = {r["budget"]: r for r in section()["budgets"]}
    assert sorted(rows) == [1, 2, 3]
    assert rows[3]["tag"]["delta_m"]["mean"] == 0.0  # every task alone: the reference
    two = rows[2]
    assert two["tag"]["delta_m"]["n"] == 3 and two["random"]["count"] == 3
    assert two["tag"]["same_in_every_seed"] and two["tag"]["groups"]["1"] == [["a", "b"], ["c"]]
    # TAG's a+b | c beats one network and the random a+c | b in every seed.
    for key in ("vs_one_network", "vs_random"):
        assert two["tag"][key]["n"] == 3 and two["tag"][key]["mean"] > 0
        assert two["tag"][key]["excludes_zero"]
    assert two["tag"]["predicted"]["mean"] == pytest.approx(0.3)


def test_prediction_ranks_and_random_groupings_that_beat_tag():
    p = section()["prediction"]
    assert p["random_compared"] == 3 and p["random_beat_tag"] == 0
    assert len(p["points"]) == 12 and p["spearman_delta_m"]["n"] == 3
    # Scores 0.3 > 0.1 > 0.05 > 0 measure Δm +13.3, -5, -10, 0 (seed 0; the others alike):
    # rank differences 0, 1, 1, 2, rho = 1 - 6 * 6 / (4 * 15).
    assert p["spearman_delta_m"]["values"] == pytest.approx([0.4, 0.4, 0.4])


def test_a_run_not_done_leaves_its_groupings_unmeasured():
    plans, tests = {}, {}
    plans[0], tests = plan(0)
    tests["ab0"] = None
    out = measure(plans, tests, TASKS, PRIMARY)
    measured = {(g["kind"], g["budget"]): g["measured"] for g in out["plans"]["0"]["groupings"]}
    assert measured[("tag", 2)] is None and measured[("random", 2)] is not None
    assert out["recovery"] is None


def test_recovery_by_tag_and_by_learned_trees():
    trees = [{"cell": "l2b", "seed": 0, "tree": {"layers": [], "tasks": {"a": 1, "b": 1, "c": 0}}},
             {"cell": "l2b", "seed": 1, "tree": {"layers": [], "tasks": {"a": 0, "b": 0, "c": 0}}}]
    r = section(trees)["recovery"]
    assert r["tag"] == {"0": True, "1": True, "2": True} and r["tag_recovered"] == 3
    assert [t["recovered"] for t in r["trees"]] == [True, False] and r["trees_recovered"] == 1


def test_partitions():
    assert partition_of_tree({"layers": [[0, 0]], "tasks": {"x": 1, "y": 0, "z": 1}}) == [
        ["x", "z"], ["y"]]
    assert same_partition([["a"], ["b", "c"]], [["c", "b"], ["a"]])
    assert not same_partition([["a", "b"], ["c"]], [["a"], ["b", "c"]])
    assert not same_partition(None, [["a"]])
