"""study.py with `grouping:`: affinity runs, groupings per seed, one run per distinct group
(single-task and one-network runs reused), the grouping section of study.json, resuming,
and the bad inputs of issue 22 as config errors naming the key."""

import json
import os

import pytest

import study
from tests.conftest import GROUPING_BASE as BASE


@pytest.mark.slow  # about 30 small runs
def test_every_grouping_is_trained_once_and_measured(grouping_study):
    path, out, code = grouping_study
    assert code == 0
    content = json.load(open(os.path.join(out, "study.json")))
    section = content["grouping"]
    assert section["tasks"] == ["y0", "y1", "y2", "y3"] and section["seeds"] == [0, 1]
    for seed in (0, 1):
        plan = json.load(open(os.path.join(out, "grouping", f"seed{seed}", "plan.json")))
        assert plan["affinity"]["source"] == f"grouping/affinity/seed{seed}"
        assert [(g["kind"], g["budget"]) for g in plan["groupings"]] == [
            ("tag", 1), ("tag", 2), ("tag", 4), ("random", 2)]
        # Singletons are the single-task runs, all four tasks the shared_bottom cell.
        assert plan["runs"]["y0"] == f"single_task/y0/seed{seed}"
        assert plan["runs"]["y0+y1+y2+y3"] == f"runs/shared_bottom/seed{seed}"
        pairs = [g for g in plan["groups"] if len(g) == 2]
        assert {plan["runs"]["+".join(g)] for g in pairs} == {
            f"groups/{'+'.join(g)}/seed{seed}" for g in pairs}
        assert plan["truth"] and sorted(map(len, plan["truth"])) == [2, 2]
    groups = [r for r in content["runs"] if r["group"] == "group"]
    assert groups and all(r["status"] == "done" for r in content["runs"])
    assert len({r["run_dir"] for r in groups}) == len(groups)  # none trained twice
    rows = {r["budget"]: r for r in section["budgets"]}
    assert sorted(rows) == [1, 2, 4] and rows[2]["tag"]["delta_m"]["n"] == 2
    assert rows[2]["random"]["count"] == 2 and rows[2]["tag"]["vs_one_network"]["n"] == 2
    assert rows[4]["tag"]["delta_m"]["mean"] == 0.0
    recovery = section["recovery"]
    assert recovery["tag_seeds"] == 2 and len(recovery["trees"]) == 2
    assert {t["cell"] for t in section["trees"]} == {"l2b"}


@pytest.mark.slow
def test_a_finished_grouping_study_resumes_with_nothing_to_do(grouping_study, capsys):
    path, out, _ = grouping_study
    chosen = open(os.path.join(out, "grouping", "seed0", "plan.json")).read()
    assert study.main(["--config", path, "--output", out, "--jobs", "0"]) == 0
    printed = capsys.readouterr().out
    assert "0 to run" in printed and "0 runs of the chosen groupings to train" in printed
    assert "Task grouping (TAG" in printed and "Planted grouping recovered: TAG in" in printed
    assert open(os.path.join(out, "grouping", "seed0", "plan.json")).read() == chosen
    # The plan lists the group runs too, once their seed's groupings are chosen.
    assert study.main(["--config", path, "--output", out, "--plan"]) == 0
    listed = capsys.readouterr().out
    assert "affinity" in listed and "groups/" in listed


@pytest.mark.slow
def test_an_existing_runs_affinity_is_used_for_every_seed(grouping_study, tmp_path, capsys):
    path, out, _ = grouping_study
    run = os.path.join(out, "grouping", "affinity", "seed0")
    text = open(path).read().replace("random: 1}", f"random: 0, affinity_run: {run}}}")
    assert study.main(["--config", write(tmp_path, text), "--output", str(tmp_path / "o"),
                       "--plan"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed and not [line for line in listed if line.startswith("affinity")]


def write(folder, text, name="study.yaml"):
    path = folder / name
    path.write_text(text)
    return str(path)


def bad_study(tmp_path, grouping, single_task=""):
    base = write(tmp_path, BASE.format(data_dir=tmp_path / "tfds"), "base.yaml")
    return write(tmp_path, f"base: {base}\nseeds: 1\n{single_task}grouping: {grouping}\n")


@pytest.mark.parametrize("grouping, message", [
    ("{budgets: [2, 9]}", "grouping.budgets: [9] not a number of networks for 4 tasks; "
                          "valid: integers 1..4"),
    ("{tasks: [y0, bogus]}", "grouping.tasks: unknown task(s) ['bogus']; valid: the cells' "
                             "tasks (y0, y1, y2, y3)"),
    ("{random: -1}", "grouping.random: -1 is out of range; valid: an integer >= 0"),
    ("{randoms: 1}", "grouping.randoms: unknown argument of the grouping section; valid: "
                     "affinity_epochs"),
    ("{overlap: true, method: beam}", "grouping.method: beam search makes partitions only"),
    ("{affinity_run: /nonexistent}", "grouping.affinity_run: /nonexistent has no history.json"),
])
def test_bad_grouping_inputs_are_config_errors_naming_the_key(tmp_path, capsys, grouping,
                                                              message):
    assert study.main(["--config", bad_study(tmp_path, grouping), "--output",
                       str(tmp_path / "out"), "--plan"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("config error: ") and message in err, err


def test_a_run_without_recorded_affinity_says_how_to_record_it(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "history.json").write_text(json.dumps([{"epoch": 1, "diagnostics": {
        "tasks": ["y0", "y1", "y2", "y3"], "gradient_cosine": [[1.0]]}}]))
    assert study.main(["--config", bad_study(tmp_path, f"{{affinity_run: {run}}}"),
                       "--output", str(tmp_path / "out"), "--plan"]) == 2
    err = capsys.readouterr().err
    assert "train.affinity_per_epoch: " in err and "recorded no task affinity" in err
    assert "--set train.affinity_per_epoch=1" in err


def test_grouping_needs_the_single_task_networks(tmp_path, capsys):
    path = bad_study(tmp_path, "{}", single_task="single_task: false\n")
    assert study.main(["--config", path, "--output", str(tmp_path / "out"), "--plan"]) == 2
    assert "grouping: needs single_task: true" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["grouping_planted", "grouping_shapes"])
def test_the_committed_grouping_studies_plan(name, tmp_path, capsys):
    path = os.path.join("configs", "studies", f"{name}.yaml")
    assert study.main(["--config", path, "--output", str(tmp_path / name), "--plan"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("affinity") for line in listed) >= 3  # one per seed, >= 3 seeds
