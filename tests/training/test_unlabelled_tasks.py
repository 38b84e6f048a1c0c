"""A mixed batch may hold no labelled example of a task (its source was not drawn): every
weighting and gradient method must then give that task a zero gradient and stay finite."""

import numpy as np
import pytest

from training.testing import synthetic_problem, train_config
from training.trainer import Trainer
from training.weighting import list_weightings

PROBLEM = synthetic_problem(num_tasks=3, num_examples=48, missing=0.0)
ABSENT = PROBLEM.tasks[1].name  # regression: its loss would be large if it leaked in


def batches_without(task, epoch):
    """The epoch's batches with every label of `task` masked, as a mixed batch drawn
    only from sources that lack it."""
    def drop(inputs, labels, masks):
        masks = dict(masks)
        masks[task] = masks[task] * 0.0
        return inputs, labels, masks
    return PROBLEM.train(epoch, batch_size=16).map(drop)


# Every method on the representation; on the parameters, two that normalise or project the
# task gradients (where a zero gradient could divide by zero).
CASES = [(m, "representation") for m in list_weightings()] + [
    ("mgda_ub", "parameters"), ("pcgrad", "parameters")]


@pytest.mark.parametrize("method, gradient_on", CASES)
def test_a_task_without_labels_in_the_batch_gets_no_gradient_and_nothing_is_nan(method,
                                                                               gradient_on):
    config = train_config(weighting=method)
    trainer = Trainer(PROBLEM.model(), PROBLEM.tasks, config, verbose=0)
    if trainer.weighting.uses_gradients:
        if gradient_on not in getattr(trainer.weighting, "gradient_spaces",
                                      ("representation", "parameters")):
            pytest.skip(f"{method} works on the representation only")
        trainer = Trainer(PROBLEM.model(), PROBLEM.tasks,
                          train_config(weighting=method, gradient_on=gradient_on), verbose=0)
    elif gradient_on == "parameters":
        pytest.skip(f"{method} takes no per-task gradients")
    head = trainer.model.get_layer(f"{ABSENT}_logits")
    before = [w.copy() for w in head.get_weights()]
    history = trainer.fit(lambda e: batches_without(ABSENT, e), epochs=1)
    for logs in history:
        assert np.isfinite(logs["train"][ABSENT]["loss"]) and logs["train"][ABSENT]["loss"] == 0
        assert all(np.isfinite(w) for w in logs["weights"].values()), logs["weights"]
    assert all(np.all(np.isfinite(w)) for w in trainer.model.get_weights())
    for old, new in zip(before, head.get_weights()):  # its head never moved
        np.testing.assert_array_equal(old, new)
