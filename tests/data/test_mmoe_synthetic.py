"""`mmoe_synthetic`: the construction of Ma et al. (2018) and a small build."""

import numpy as np
import pytest

import data
from data.mmoe_synthetic import MmoeParams, generate_split, task_weights
from tests.data.helpers import whole_split


@pytest.mark.parametrize("p", [0.0, 0.5, 0.9, 1.0, -0.3])
def test_weights_have_the_asked_cosine(p):
    params = MmoeParams(correlation=p, dim=20, scale=2.0)
    w1, w2, alpha, beta = task_weights(params, np.random.default_rng(0))
    assert np.isclose(np.linalg.norm(w1), 2.0) and np.isclose(np.linalg.norm(w2), 2.0)
    assert np.isclose(w1 @ w2 / 4.0, p)
    assert alpha.shape == beta.shape == (10,)


def test_label_correlation_grows_with_p():
    corr = [np.corrcoef(*generate_split(MmoeParams(correlation=p, train_size=3000), 0)[1:])[0, 1]
            for p in (0.0, 0.5, 0.9, 1.0)]
    assert corr == sorted(corr) and corr[-1] > 0.95 and abs(corr[0]) < 0.1
    # Nearly linear labels (small sine parameters) have a correlation close to p.
    x, y1, y2 = generate_split(MmoeParams(correlation=0.5, sine_std=0.1, train_size=3000), 0)
    assert abs(np.corrcoef(y1, y2)[0, 1] - 0.5) < 0.1


def test_small_build(data_dir):
    spec = data.get_dataset("mmoe_synthetic", correlation=0.9, dim=16, train_size=64,
                            validation_size=16, test_size=16)
    inputs, labels, masks = whole_split(spec, "train", data_dir)
    assert inputs["x"].shape == (64, 16) and labels["y1"].shape == (64, 1)
    x, y1, y2 = generate_split(MmoeParams(correlation=0.9, dim=16, train_size=64,
                                          validation_size=16, test_size=16), 0)
    np.testing.assert_allclose(inputs["x"], x)
    np.testing.assert_allclose(labels["y2"][:, 0], y2)
    # What the one-graph trainer reads instead of the build: the very same values.
    np.testing.assert_array_equal(spec.arrays("train")["x"], inputs["x"])
    np.testing.assert_array_equal(spec.arrays("train")["y1"], labels["y1"][:, 0])
    # Splits differ; the task weights are shared.
    val = whole_split(spec, "validation", data_dir)[0]["x"]
    assert not np.allclose(val, x[:16])


def test_bad_correlation():
    with pytest.raises(ValueError, match=r"data.options.correlation: 1.5 is out of range; "
                                         r"valid: a number in \[-1, 1\]"):
        data.get_dataset("mmoe_synthetic", correlation=1.5)


def test_sine_seed_fixes_the_function_across_data_seeds():
    """`sine_seed`: one α, β for every data seed; u1, u2 and x still change with `seed`."""
    draws = [task_weights(MmoeParams(seed=s, sine_seed=7), np.random.default_rng([s, 0]))
             for s in (0, 1)]
    np.testing.assert_array_equal(draws[0][2], draws[1][2])   # alpha
    np.testing.assert_array_equal(draws[0][3], draws[1][3])   # beta
    assert not np.allclose(draws[0][0], draws[1][0])          # w1
    # Without it the weight vectors are the same as before (α, β are drawn after them).
    plain = task_weights(MmoeParams(seed=0), np.random.default_rng([0, 0]))
    np.testing.assert_array_equal(plain[0], draws[0][0])
    assert not np.allclose(plain[2], draws[0][2])
    assert data.get_dataset("mmoe_synthetic", sine_seed=7).builder_kwargs["config"].name \
        .startswith("p0.5-d100-c1-m10-a1s7-")
