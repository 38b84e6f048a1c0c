"""`planted_groups`: the stored grouping is the one the generator used, and a small build."""

import numpy as np
import pytest

import data
from data.pipeline import prepare
from data.planted_groups import PlantedParams, generate_split, signatures, task_names, world
from tests.data.helpers import whole_split

SMALL = dict(train_size=400, validation_size=64, test_size=64)


def correlations(labels, names):
    return np.corrcoef(np.array([labels[n] for n in names]))


def test_tasks_of_a_stored_group_are_copies_of_one_function():
    params = PlantedParams(num_groups=4, tasks_per_group=3, conflicts=1, train_size=3000)
    w = world(params)
    _, labels = generate_split(params, 0)
    names = task_names(params)
    c = correlations(labels, names)
    group_of = {n: g for g, members in enumerate(w["groups"]) for n in members}
    same = np.array([[group_of[a] == group_of[b] for b in names] for a in names])
    off = ~np.eye(len(names), dtype=bool)
    assert c[same & off].min() > 0.8
    # Unrelated groups read orthogonal latents: nearly uncorrelated labels.
    unrelated = np.array([[{group_of[a], group_of[b]} not in ({0, 1},) and
                           group_of[a] != group_of[b] for b in names] for a in names])
    assert np.abs(c[unrelated]).max() < 0.3  # the tasks' own directions overlap a little
    # Groups are not contiguous by name (a seeded permutation assigns tasks).
    assert w["groups"] != [names[i:i + 3] for i in range(0, 12, 3)]
    assert sorted(n for g in w["groups"] for n in g) == sorted(names)


def test_conflicting_pairs_agree_on_one_latent_and_disagree_on_another():
    s = signatures(PlantedParams(num_groups=5, conflicts=2, conflict_weight=0.5))
    np.testing.assert_array_equal(s, [[1, 0.5, 0, 0, 0], [1, -0.5, 0, 0, 0],
                                      [0, 0, 1, 0.5, 0], [0, 0, 1, -0.5, 0],
                                      [0, 0, 0, 0, 1]])


def test_small_build_stores_the_generators_grouping(data_dir):
    spec = data.get_dataset("planted_groups", seed=3, **SMALL)
    params = PlantedParams(seed=3, **SMALL)
    info = prepare(spec, data_dir).info
    assert info.metadata["groups"] == world(params)["groups"]
    assert info.metadata["conflicts"] == [[0, 1]]
    np.testing.assert_array_equal(info.metadata["signatures"], signatures(params))
    inputs, labels, _ = whole_split(spec, "train", data_dir)
    x, want = generate_split(params, 0)
    np.testing.assert_allclose(inputs["x"], x)
    for name, y in want.items():
        np.testing.assert_allclose(labels[name][:, 0], y)
    # The stored groups are what the labels say: each task's closest task is in its group.
    c = correlations({n: labels[n][:, 0] for n in want}, list(want))
    np.fill_diagonal(c, -np.inf)
    names = list(want)
    for group in info.metadata["groups"]:
        for task in group:
            assert names[int(np.argmax(c[names.index(task)]))] in group
    other = data.get_dataset("planted_groups", seed=4, **SMALL)
    assert prepare(other, data_dir).info.metadata["groups"] != info.metadata["groups"]


@pytest.mark.parametrize("options, message", [
    ({"conflicts": 2}, r"conflicts: 2 breaks 2 \* conflicts <= num_groups \(num_groups is 3\)"),
    ({"dim": 2}, r"dim: 2 breaks dim >= num_groups \(num_groups is 3\)"),
    ({"tasks_per_group": 0}, r"tasks_per_group: 0 is out of range; valid: an integer 1 to 32"),
    ({"groups": 3}, r"groups: unknown argument of dataset 'planted_groups'; valid: num_groups"),
])
def test_bad_options_name_the_key(options, message):
    with pytest.raises(ValueError, match=r"data\.options.*" + message):
        data.get_dataset("planted_groups", **options)
