"""Reading the affinity a run recorded: its orientation, averaging, and the errors for a
run without it and for tasks it does not have."""

import json

import numpy as np
import pytest

from training.grouping.affinity import affinity_from_history, read_affinity, restrict


def epoch(n, samples, tasks=("a", "b", "c")):
    return {"epoch": n, "diagnostics": {
        "tasks": list(tasks), "affinity": np.mean(samples, axis=0).tolist(),
        "affinity_samples": [{"epoch": n, "step": s, "affinity": np.asarray(m).tolist()}
                             for s, m in enumerate(samples)]}}


def test_mean_over_every_sample_of_every_epoch():
    rng = np.random.default_rng(0)
    samples = rng.normal(size=(5, 3, 3))
    history = [epoch(1, samples[:2]), {"epoch": 2}, epoch(3, samples[2:])]
    names, z = affinity_from_history(history)
    assert names == ["a", "b", "c"]
    np.testing.assert_allclose(z, samples.mean(axis=0))


def test_an_epoch_mean_without_its_samples_counts_once():
    z1, z2 = np.eye(2), np.ones((2, 2))
    history = [{"diagnostics": {"tasks": ["a", "b"], "affinity": z1.tolist()}},
               {"diagnostics": {"tasks": ["a", "b"], "affinity": z2.tolist()}}]
    np.testing.assert_allclose(affinity_from_history(history)[1], (z1 + z2) / 2)


def test_a_run_without_affinity_says_how_to_record_it(tmp_path):
    history = [{"epoch": 1, "diagnostics": {"tasks": ["a"], "note": "one task: nothing to "
                                                                     "compare"}}]
    (tmp_path / "history.json").write_text(json.dumps(history))
    with pytest.raises(ValueError, match=r"train\.affinity_per_epoch: .* recorded no task "
                                         r"affinity \(diagnostics: one task"
                                         r".*affinity_per_epoch: 1"):
        read_affinity(str(tmp_path))
    with pytest.raises(ValueError, match=r"grouping\.affinity_run: .* has no history\.json"):
        read_affinity(str(tmp_path / "missing"))


def test_restrict_keeps_the_orientation_and_names_unknown_tasks():
    z = np.arange(9.0).reshape(3, 3)  # z[i, j]: i onto j
    names, sub = restrict(["a", "b", "c"], z, ["c", "a"])
    assert names == ["c", "a"]
    np.testing.assert_array_equal(sub, [[8.0, 6.0], [2.0, 0.0]])  # c->c, c->a; a->c, a->a
    with pytest.raises(ValueError, match=r"grouping\.tasks: unknown task\(s\) \['d'\]; "
                                         r"the run's affinity covers: a, b, c"):
        restrict(["a", "b", "c"], z, ["a", "d"])
    with pytest.raises(ValueError, match="listed twice"):
        restrict(["a", "b", "c"], z, ["a", "a"])


@pytest.mark.slow  # a real training run with the affinity diagnostic (~20 s on 2 cores)
def test_a_real_run_is_read_in_the_recorded_orientation(tmp_path):
    from training.config import TrainConfig
    from training.testing import synthetic_problem
    from training.trainer import Trainer

    problem = synthetic_problem(num_tasks=3, num_examples=96)
    config = TrainConfig(diagnostics_per_epoch=0, affinity_per_epoch=2, gate_diagnostics=False)
    trainer = Trainer(problem.model(), problem.tasks, config, run_dir=str(tmp_path), verbose=0)
    history = trainer.fit(lambda e: problem.train(e, batch_size=24), None, epochs=1)
    names, z = read_affinity(str(tmp_path))
    assert names == [t.name for t in problem.tasks]
    recorded = [s["affinity"] for h in history for s in h["diagnostics"]["affinity_samples"]]
    assert len(recorded) == 2
    np.testing.assert_allclose(z, np.mean(recorded, axis=0))
