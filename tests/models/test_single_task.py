"""single_task: nothing shared between tasks, and one-task baseline configs for train.py."""

import numpy as np
import tensorflow as tf

import models
from models.baseline_config import single_task_config
from tests.models.helpers import IMAGE_INPUTS, TASKS, build, make_batch


def test_a_task_loss_reaches_only_its_own_parameters():
    model = build("single_task", {"tower_units": [8]})
    x = make_batch(TASKS, IMAGE_INPUTS, n=4)[0]
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(x, training=True)["digit"][:, 0])
    grads = tape.gradient(loss, model.trainable_weights)
    touched = {w.path.split("/")[0] for w, g in zip(model.trainable_weights, grads)
               if g is not None and np.any(g.numpy() != 0)}
    assert touched == {"encoder_digit", "tower_digit_0", "digit_logits"}


def test_baseline_config_from_the_model_section():
    section = {"architecture": "mmoe", "encoder": "cnn", "encoder_args": {"units": 8},
               "args": {"num_experts": 2}}
    config = single_task_config(section, TASKS[1])
    # mmoe's default tower, the same encoder.
    assert config == {"architecture": "single_task", "encoder": "cnn",
                      "encoder_args": {"units": 8}, "args": {"tower_units": [32]}}
    model = models.MultiTaskModel(tasks=[TASKS[1]], inputs=IMAGE_INPUTS, **config)
    assert model.output_names == ["big"]


def test_baseline_config_from_a_model_config():
    mtl = build("shared_bottom", {"tower_units": [8]})
    one = models.MultiTaskModel.from_config(single_task_config(mtl.get_config(), "tags"))
    assert one.output_names == ["tags"] and one.name == f"{mtl.name}_tags"
    assert one.get_config()["args"] == {"tower_units": [8]}
