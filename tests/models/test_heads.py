"""A model's losses are masked (a missing label adds nothing, never NaN)."""

import numpy as np
import tensorflow as tf

from models.losses import masked_task_loss
from tests.models.helpers import TASKS, make_batch, IMAGE_INPUTS, build


def test_losses_are_masked():
    model = build("shared_bottom")
    inputs, labels, masks = make_batch(TASKS, IMAGE_INPUTS, n=6)
    _, outputs, _ = model.training_view()(inputs)  # the logits
    for task in TASKS:
        full = masked_task_loss(task, labels[task.name], outputs[task.name], masks[task.name])
        # Garbage in the masked-out labels changes nothing.
        noisy = np.array(labels[task.name], copy=True)
        noisy[masks[task.name] == 0] = 1e6 if task.label_dtype == "float32" else 1
        again = masked_task_loss(task, noisy, outputs[task.name], masks[task.name])
        np.testing.assert_allclose(float(full), float(again), rtol=1e-6)
        none = masked_task_loss(task, labels[task.name], outputs[task.name],
                                tf.zeros_like(masks[task.name]))
        assert float(none) == 0.0
