"""Groupings per budget with TAG's predicted gain, budgets and tasks checked, random
groupings of a budget."""

import numpy as np
import pytest

from training.grouping.plan import check_budgets, choose_groupings, random_grouping
from tests.training.grouping.helpers import brute_partition, canonical

NAMES = ["a", "b", "c", "d", "e"]


def blocks():
    # {a, b} and {c, d} help each other, e hurts everyone; orientation: z[i, j] = i onto j.
    z = np.full((5, 5), -0.1)
    z[0, 1], z[1, 0], z[2, 3], z[3, 2] = 0.6, 0.4, 0.3, 0.5
    z[4, :] = -0.5
    return z


def test_one_grouping_per_budget_with_its_predicted_gain():
    z = blocks()
    plans = choose_groupings(z, NAMES)
    assert [p.budget for p in plans] == [1, 2, 3, 4, 5]
    assert all(len(p.groups) == p.budget for p in plans)
    three = plans[2]
    assert three.groups == (("a", "b"), ("c", "d"), ("e",))
    assert three.task_scores == {"a": 0.4, "b": 0.6, "c": 0.5, "d": 0.3, "e": 0.0}
    assert np.isclose(three.score, 1.8 / 5)
    assert three.serving == {"a": 0, "b": 0, "c": 1, "d": 1, "e": 2}
    assert np.isclose(plans[-1].score, 0.0)  # every task alone: the single-task networks
    assert np.isclose(plans[0].gain_over_one_network, 0.0)
    assert np.isclose(three.gain_over_one_network, three.score - plans[0].score)
    for p in plans:  # each is the brute-force optimum of its budget
        value, groups = brute_partition(z, p.budget)
        assert np.isclose(p.score * 5, value)
        assert canonical([[NAMES.index(t) for t in g] for g in p.groups]) == groups
    assert plans[2].to_dict()["groups"] == [["a", "b"], ["c", "d"], ["e"]]


def test_subset_of_tasks_beam_and_overlap():
    z = blocks()
    (two,) = choose_groupings(z, NAMES, budgets=[2], tasks=["d", "c", "b", "a"])
    assert two.groups == (("d", "c"), ("b", "a"))
    (beam,) = choose_groupings(z, NAMES, budgets=[3], method="beam")
    assert beam.method == "beam" and beam.groups == (("a", "b"), ("c", "d"), ("e",))
    (cover,) = choose_groupings(z, NAMES, budgets=[3], overlap=True)
    assert cover.method == "exact" and cover.score >= beam.score - 1e-12


def test_bad_budgets_tasks_and_methods_name_the_key():
    z = blocks()
    with pytest.raises(ValueError, match=r"grouping\.budgets: \[6\] not a number of networks "
                                         r"for 5 tasks; valid: integers 1\.\.5"):
        choose_groupings(z, NAMES, budgets=[2, 6])
    with pytest.raises(ValueError, match=r"grouping\.budgets: \[3\] .* for 2 tasks"):
        choose_groupings(z, NAMES, budgets=[3], tasks=["a", "b"])
    with pytest.raises(ValueError, match=r"grouping\.tasks: unknown task\(s\) \['zz'\]"):
        choose_groupings(z, NAMES, tasks=["a", "zz"])
    with pytest.raises(ValueError, match=r"grouping\.method: unknown 'greedy'; valid: auto"):
        choose_groupings(z, NAMES, method="greedy")
    with pytest.raises(ValueError, match=r"grouping\.method: beam search makes partitions"):
        choose_groupings(z, NAMES, overlap=True, method="beam")
    assert check_budgets(None, 3) == [1, 2, 3] and check_budgets([3, 1, 3], 3) == [1, 3]
    with pytest.raises(ValueError, match="grouping.budgets"):
        check_budgets([True], 3)


def test_random_groupings_are_partitions_of_the_budget():
    seen = set()
    for seed in range(30):
        groups = random_grouping(NAMES, 3, np.random.default_rng(seed))
        assert len(groups) == 3 and all(groups)
        assert sorted(t for g in groups for t in g) == NAMES
        seen.add(groups)
    assert len(seen) > 10  # not one grouping over and over
    assert random_grouping(NAMES, 2, np.random.default_rng(7)) == \
        random_grouping(NAMES, 2, np.random.default_rng(7))
    assert random_grouping(NAMES, 5, np.random.default_rng(0)) == tuple((t,) for t in NAMES)
    with pytest.raises(ValueError, match="budget: 6 groups for 5 tasks"):
        random_grouping(NAMES, 6)
