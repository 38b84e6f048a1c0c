"""The grouping search against brute force: hand-made matrices with a known answer and
random ones (T = 2..7 for partitions, 2..5 for overlapping groups)."""

import numpy as np
import pytest

from training.grouping import search
from tests.training.grouping.helpers import brute_cover, brute_partition, canonical, score_of


def planted(sizes, within=0.5, between=-0.3, noise=0.05, seed=0):
    """An affinity matrix with positive blocks on the diagonal, negative elsewhere."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    z = np.where(labels[:, None] == labels[None, :], within, between)
    return z + noise * rng.normal(size=z.shape), labels


def test_planted_blocks_are_found_at_their_budget():
    z, labels = planted([2, 3, 2])
    want = canonical([np.flatnonzero(labels == g).tolist() for g in range(3)])
    assert canonical(search.best_partition(z, 3)) == want
    assert canonical(search.beam_partition(z, 3)) == want
    assert brute_partition(z, 3)[1] == want


def test_hand_made_matrix_with_asymmetric_help():
    # 0 helps 1 a lot, 1 hurts 0 a little; 2 and 3 help each other; 4 hurts everyone.
    z = np.array([[0.0, 0.9, 0.0, 0.0, 0.0],
                  [-0.1, 0.0, 0.0, 0.0, 0.0],
                  [0.0, 0.0, 0.0, 0.4, 0.0],
                  [0.0, 0.0, 0.3, 0.0, 0.0],
                  [-0.5, -0.5, -0.5, -0.5, 0.0]])
    assert search.best_partition(z, 3) == ((0, 1), (2, 3), (4,))
    assert search.best_partition(z, 1) == ((0, 1, 2, 3, 4),)
    # The best two networks leave 4 alone and put the others together? (0, 1) gains 0.8,
    # (2, 3) gains 0.7; together (0..3) each task's mean is lower: 0.8/3 + ... < 1.5.
    assert search.best_partition(z, 2) == brute_partition(z, 2)[1]


@pytest.mark.parametrize("seed", range(4))
def test_exact_and_beam_partitions_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    for t in range(2, 8):
        z = rng.normal(size=(t, t))
        for k in range(1, t + 1):
            value, groups = brute_partition(z, k)
            got = search.best_partition(z, k)
            assert canonical(got) == groups, (t, k)
            assert np.isclose(search.grouping_score(z, got)[0], value)
            beam = search.beam_partition(z, k, width=256)  # wide enough to be exact here
            assert np.isclose(score_of(z, beam), value), (t, k)
            assert score_of(z, search.beam_partition(z, k, width=2)) <= value + 1e-9


@pytest.mark.parametrize("seed", range(3))
def test_overlapping_groups_match_brute_force(seed):
    rng = np.random.default_rng(100 + seed)
    for t in range(2, 6):
        z = rng.normal(size=(t, t))
        for k in range(1, min(t, 3 if t == 5 else t) + 1):
            value, groups = brute_cover(z, k)
            got = search.best_cover(z, k)
            assert canonical(got) == groups, (t, k)
            assert np.isclose(search.grouping_score(z, got)[0], value)


def test_overlap_lets_a_task_join_two_groups():
    # Task 1 is helped by 0 and by 2, which hurt each other: with two networks task 1
    # sits in both groups.
    z = np.array([[0.0, 0.6, -0.8], [0.1, 0.0, 0.1], [-0.8, 0.6, 0.0]])
    cover = search.best_cover(z, 2)
    assert cover == ((0, 1), (1, 2))
    assert search.grouping_score(z, cover)[0] > search.grouping_score(
        z, search.best_partition(z, 2))[0]


def test_scores_and_serving():
    z = np.array([[0.0, 0.2, 0.1], [0.3, 0.0, 0.5], [0.1, -0.4, 0.0]])
    np.testing.assert_allclose(search.member_scores(z, (0, 1, 2)), [0.2, -0.1, 0.3])
    total, best, serving = search.grouping_score(z, ((0, 1, 2), (1, 2)))
    # 2 is better off with 1 alone (0.5) than with all (0.3); 1 the other way round.
    np.testing.assert_allclose(best, [0.2, -0.1, 0.5])
    assert serving.tolist() == [0, 0, 1] and np.isclose(total, 0.6)
    table = search.subset_scores(z)
    np.testing.assert_allclose(table[0b111], [0.2, -0.1, 0.3])
    assert table[0b001][0] == 0.0 and np.isneginf(table[0b001][1:]).all()


def test_bad_inputs_name_what_is_wrong():
    z = np.zeros((3, 3))
    with pytest.raises(ValueError, match=r"budget: 4 groups for 3 tasks; valid: 1..3"):
        search.best_partition(z, 4)
    with pytest.raises(ValueError, match="square"):
        search.best_partition(np.zeros((2, 3)), 1)
    with pytest.raises(ValueError, match="exact search takes at most"):
        search.best_partition(np.zeros((search.MAX_EXACT_TASKS + 1,) * 2), 2)
    with pytest.raises(ValueError, match="overlapping groups"):
        search.best_cover(np.zeros((search.MAX_OVERLAP_TASKS + 1,) * 2), 2)
