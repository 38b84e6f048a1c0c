"""Task kinds as objects: dispatch, config round trip, and a new kind added as one class."""

import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from data.task_kinds import RegressionTask
from data.tasks import TASK_KINDS, Task, list_kinds
from tests.helpers import REPO
from tests.models.helpers import IMAGE_INPUTS, run_architecture_test


def test_task_returns_the_kind_class_and_round_trips():
    for task in (Task("a", "binary"), Task("b", "multiclass", ("x", "y", "z")),
                 Task("c", "multilabel", ("p", "q")), Task("d", "regression")):
        assert type(task) is TASK_KINDS.get(task.kind)
        again = Task.from_config(task.to_config())
        assert again == task and type(again) is type(task)
    with pytest.raises(ValueError, match="Task 'e': kind: unknown task kind 'ordinal'; known "
                                         "task kinds: binary, multiclass, multilabel, regression"):
        Task("e", "ordinal")
    with pytest.raises(ValueError, match="needs exactly 2 class names"):
        Task("f", "binary", ("a", "b", "c"))
    with pytest.raises(ValueError, match="takes no class names"):
        Task("g", "regression", ("a",))


def test_the_kind_modules_import_without_tensorflow_and_models_without_the_builders():
    code = ("import sys, data, data.task_kinds\n"
            "assert 'tensorflow' not in sys.modules, 'data imported TensorFlow'\n"
            "import models\n"
            "assert 'tensorflow_datasets' not in sys.modules, 'models imported TFDS'\n"
            "assert 'data.multi_mnist' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True)


@TASK_KINDS.register("test_count")
class CountTask(RegressionTask):
    """A count: the head's logit is a log-rate, the output the rate, the loss Poisson's."""

    def make_head(self):
        import keras
        return (keras.layers.Dense(1, name=f"{self.name}_logits"),
                keras.layers.Activation("exponential", name=self.name))

    def per_example_loss(self, y_true, logits):
        y = tf.reshape(tf.cast(y_true, tf.float32), tf.shape(logits))
        return tf.reduce_mean(tf.exp(logits) - y * logits, axis=-1)

    def sample_labels(self, n, rng):
        return rng.poisson(3.0, (n, 1)).astype(np.float32)


def test_a_new_kind_is_one_class_and_trains_exports_and_serves(tmp_path):
    import keras
    assert "test_count" in list_kinds()
    keras.utils.set_random_seed(1)  # a fixed init: with 8 examples a ReLU tower can start dead
    tasks = (Task("visits", "test_count"), Task("digit", "multiclass", ("0", "1", "2")))
    model = run_architecture_test(tmp_path, "shared_bottom", {"tower_units": [4]},
                                  tasks=tasks, inputs=IMAGE_INPUTS)
    assert model.get_layer("visits").activation.__name__ == "exponential"
