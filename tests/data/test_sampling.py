"""Task sampling strategies: the probabilities each strategy states, and draws that realise
them (counts over many draws within a stated tolerance), reproducible per seed and epoch."""

import numpy as np
import pytest

from data import sampling

SIZES = [8000, 500, 1500]
# Over 200,000 draws a proportion's standard error is below 0.0012; 0.005 is > 4 of them.
DRAWS, TOLERANCE = 200_000, 0.005


@pytest.mark.parametrize("strategy, kwargs, expected", [
    ("proportional", {}, np.array(SIZES) / sum(SIZES)),
    ("uniform", {}, np.full(3, 1 / 3)),
    ("temperature", {"temperature": 2.0}, np.sqrt(SIZES) / np.sqrt(SIZES).sum()),
    ("temperature", {"temperature": 1.0}, np.array(SIZES) / sum(SIZES)),
    ("weights", {"weights": [1.0, 1.0, 2.0]}, np.array([0.25, 0.25, 0.5])),
    ("annealed", {"epoch": 0, "epochs": 5}, np.array(SIZES) / sum(SIZES)),
    ("annealed", {"epoch": 4, "epochs": 5},
     np.power(SIZES, 0.2) / np.power(SIZES, 0.2).sum()),
])
def test_probabilities_and_draws(strategy, kwargs, expected):
    probs = sampling.probabilities(SIZES, strategy, **kwargs)
    np.testing.assert_allclose(probs, expected, rtol=1e-12)
    ids = sampling.draws(probs, DRAWS, seed=7, epoch=kwargs.get("epoch", 0))
    np.testing.assert_allclose(sampling.realised(ids, 3), expected, atol=TOLERANCE)


def test_annealing_moves_from_proportional_towards_uniform():
    small = [sampling.probabilities(SIZES, "annealed", epoch=e, epochs=6)[1] for e in range(6)]
    assert all(a < b for a, b in zip(small, small[1:]))
    assert small[0] == pytest.approx(500 / 10000)
    assert small[-1] < 1 / 3  # α = 0.2 at the end: close to, but not, uniform


def test_high_temperature_approaches_uniform():
    np.testing.assert_allclose(sampling.probabilities(SIZES, "temperature", temperature=1e6),
                               np.full(3, 1 / 3), atol=1e-4)


def test_draws_depend_only_on_seed_and_epoch():
    probs = [0.7, 0.3]
    a = sampling.draws(probs, 100, seed=3, epoch=2)
    np.testing.assert_array_equal(a, sampling.draws(probs, 100, seed=3, epoch=2))
    assert not np.array_equal(a, sampling.draws(probs, 100, seed=3, epoch=3))
    assert not np.array_equal(a, sampling.draws(probs, 100, seed=4, epoch=2))


@pytest.mark.parametrize("strategy, kwargs, match", [
    ("temperature", {"temperature": 0.0}, "temperature > 0"),
    ("temperature", {"temperature": -1.0}, "temperature > 0"),
    ("weights", {"weights": [1.0, -1.0, 1.0]}, "weights"),
    ("weights", {"weights": [1.0, 1.0]}, "weights"),
    ("weights", {"weights": [0.0, 0.0, 0.0]}, "weights"),
    ("sometimes", {}, "valid: proportional"),
])
def test_bad_arguments(strategy, kwargs, match):
    with pytest.raises(ValueError, match=match):
        sampling.probabilities(SIZES, strategy, **kwargs)


def test_default_epoch_covers_the_sources_once():
    assert sampling.steps_per_epoch([1000, 24], 32, "mixed") == 32
    assert sampling.steps_per_epoch([1000, 24], 32, "per_source") == 32
    assert sampling.steps_per_epoch([1000, 24], 32, "round") == 16
