"""`conversion_funnel`: the generator's known effects, the funnel's labels, a small build."""

import numpy as np
import pytest

import data
from data.conversion_funnel import FunnelParams, generate_split, rates, world
from tests.data.helpers import whole_split

SMALL = dict(num_items=50, train_size=256, validation_size=64, test_size=128)


def _corr(a, b):
    return float(np.corrcoef(a, b)[0, 1])


def test_each_feature_acts_on_its_stage():
    params = FunnelParams(train_size=20000)
    split = generate_split(params, 0)
    ctr, cvr = split["ctr_probability"], split["cvr_probability"]
    # The intercepts give the asked mean probabilities; the sampled click rate follows.
    assert abs(float(ctr.mean()) - params.ctr) < 1e-3 and abs(float(cvr.mean()) - params.cvr) < 1e-3
    assert abs(split["click"].mean() - params.ctr) < 4 * np.sqrt(params.ctr / 20000)
    # Position acts on clicks only; price on conversions only.
    assert _corr(split["position"], ctr) < -0.3 and abs(_corr(split["position"], cvr)) < 0.03
    assert _corr(split["price"], cvr) < -0.3 and abs(_corr(split["price"], ctr)) < 0.03
    # The user features act on both, through directions with cosine 0.5.
    items = world(params)
    assert np.isclose(items["w_click"] @ items["w_conversion"], 0.5)


def test_clicks_select_clickbait():
    params = FunnelParams(train_size=20000)
    items = world(params)
    split = generate_split(params, 0)
    index = np.array([int(name[4:]) for name in split["item"]])
    clicked = split["click"] == 1
    bait = items["clickbait"][index]
    # Clicked impressions are richer in clickbait, which lowers conversions ...
    assert bait[clicked].mean() > bait.mean() + 0.3
    assert _corr(bait, split["cvr_probability"]) < -0.2
    # ... and without it (selection 0) clickbait plays no part.
    plain = generate_split(FunnelParams(train_size=20000, selection=0.0), 0)
    assert abs(_corr(bait, plain["cvr_probability"])) < 0.05


@pytest.mark.parametrize("entire_space_test", [True, False])
def test_labels_follow_the_funnel(entire_space_test):
    params = FunnelParams(**SMALL, entire_space_test=entire_space_test)
    for index in range(3):
        split = generate_split(params, index)
        click, conversion, both = split["click"], split["conversion"], split["click_conversion"]
        if index == 2 and entire_space_test:
            # Every impression carries its potential outcome.
            assert (conversion >= 0).all()
            np.testing.assert_array_equal(both, click * conversion)
        else:
            # A log: the conversion label exists exactly on the clicked rows.
            np.testing.assert_array_equal(conversion >= 0, click == 1)
            np.testing.assert_array_equal(both, np.where(click == 1, conversion, 0))
        assert rates(split)["conversion_labels"] == int((conversion >= 0).sum())


def test_deterministic_per_seed():
    a, b = (generate_split(FunnelParams(**SMALL), 0) for _ in range(2))
    other = generate_split(FunnelParams(**SMALL, seed=1), 0)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert not np.array_equal(a["user"], other["user"])


def test_small_build(data_dir):
    spec = data.get_dataset("conversion_funnel", **SMALL)
    assert [t.name for t in spec.tasks] == ["click", "conversion", "click_conversion"]
    assert spec.task("conversion").kind == "binary"
    params = FunnelParams(**SMALL)
    want = generate_split(params, 0)
    inputs, labels, masks = whole_split(spec, "train", data_dir)
    np.testing.assert_allclose(inputs["user"], want["user"])
    assert [v.decode() for v in inputs["item"][:5]] == list(want["item"][:5])
    # The masks are the funnel: conversion is labelled where the impression was clicked.
    np.testing.assert_array_equal(masks["conversion"], want["click"].astype(np.float32))
    np.testing.assert_array_equal(masks["click"], np.ones(SMALL["train_size"], np.float32))
    test_masks = whole_split(spec, "test", data_dir)[2]
    np.testing.assert_array_equal(test_masks["conversion"], np.ones(SMALL["test_size"]))
    info = data.pipeline.prepare(spec, data_dir).info
    assert info.metadata["rates"]["train"]["conversion_labels"] == int(want["click"].sum())


@pytest.mark.parametrize("option, value, message", [
    ("ctr", 1.5, r"data.options.ctr: 1.5 is out of range; valid: a number in \(0, 1\)"),
    ("num_items", 0, "data.options.num_items: 0 is out of range; valid: an integer >= 1"),
])
def test_bad_options(option, value, message):
    with pytest.raises(ValueError, match=message):
        data.get_dataset("conversion_funnel", **{option: value})
