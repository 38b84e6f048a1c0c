"""Entire-space funnel metrics on a generated conversion funnel: the truth scores perfectly,
a constant pCVR is off by the true rate's mean and ranks nothing."""

import numpy as np
import pytest

from data.conversion_funnel import FunnelParams, generate_split
from tasks.metrics import entire_space_metrics


@pytest.fixture(scope="module")
def split():
    return generate_split(FunnelParams(num_items=20, train_size=64, test_size=400), 2)


def test_the_truth_has_no_bias_and_no_divergence(split):
    truth = entire_space_metrics(split["cvr_probability"], split)
    assert truth["bias_all"] == truth["bias_clicked"] == truth["bias_unclicked"] == 0.0
    assert truth["kl"] == 0.0
    assert 0.5 < truth["auc_all"] <= 1.0


def test_a_constant_guess_is_biased_by_the_mean_rate_and_ranks_nothing(split):
    guess = entire_space_metrics(np.full(len(split["click"]), 0.5), split)
    q = np.clip(split["cvr_probability"], 1e-7, 1 - 1e-7)
    assert guess["bias_all"] == pytest.approx(0.5 - q.mean())
    assert guess["auc_all"] == pytest.approx(0.5) and guess["kl"] > 0
