"""Task kinds as objects: dispatch, config round trip, the declared interface (every member,
one signature), metric names and directions, and a new kind added as one class."""

import inspect
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tasks import (TASK_KINDS, BinaryTask, RegressionTask, Task, TaskKind, higher_is_better,
                   list_kinds, monitor_names)
from tests.code_scan import kind_string_comparisons
from tests.helpers import REPO
from tests.models.helpers import IMAGE_INPUTS, run_architecture_test

# One task of each registered kind (two for kinds whose metrics depend on the classes).
EXAMPLES = (Task("a", "binary"), Task("b", "multiclass", ("x", "y", "z")),
            Task("b4", "multiclass", ("w", "x", "y", "z")), Task("c", "multilabel", ("p", "q")),
            Task("d", "regression"), Task("e", "token_multiclass", ("O", "B-NP", "I-NP")),
            Task("f", "token_multiclass", ("DT", "NN")))


def test_task_returns_the_kind_class_and_round_trips():
    for task in EXAMPLES:
        assert type(task) is TASK_KINDS.get(task.kind)
        assert isinstance(task, Task) and isinstance(task, TaskKind)
        again = Task.from_config(task.to_config())
        assert again == task and type(again) is type(task)
    assert {t.kind for t in EXAMPLES} == set(list_kinds())
    with pytest.raises(ValueError, match="Task 'e': kind: unknown task kind 'ordinal'; known "
                                         "task kinds: binary, multiclass, multilabel, regression"):
        Task("e", "ordinal")
    with pytest.raises(ValueError, match="needs exactly 2 class names"):
        Task("f", "binary", ("a", "b", "c"))
    with pytest.raises(ValueError, match="takes no class names"):
        Task("g", "regression", ("a",))


def test_the_layers_import_without_tensorflow_and_models_without_the_builders():
    code = ("import sys, tasks, inputs, data, data.csv_schema\n"
            "assert 'tensorflow' not in sys.modules, 'tasks, inputs or data imported TensorFlow'\n"
            "tasks.Task('a', 'token_multiclass', ('O', 'B-NP')).metric_names\n"
            "assert 'tensorflow' not in sys.modules, 'a kind imported TensorFlow'\n"
            "import models\n"
            "assert 'tensorflow_datasets' not in sys.modules, 'models imported TFDS'\n"
            "assert 'data.multi_mnist' not in sys.modules\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def _parameters(member):
    return [(p.name, p.kind, p.default) for p in inspect.signature(member).parameters.values()]


@pytest.mark.parametrize("name, kind", TASK_KINDS.items())
def test_every_kind_has_every_member_with_one_signature(name, kind):
    assert not inspect.isabstract(kind), f"{name} lacks {sorted(kind.__abstractmethods__)}"
    for member in sorted(TaskKind.__abstractmethods__):
        declared = inspect.getattr_static(TaskKind, member)
        if isinstance(declared, property):
            continue  # a class attribute or a property: any value of the documented type
        assert _parameters(getattr(kind, member)) == _parameters(getattr(TaskKind, member)), \
            f"{name}.{member} has its own signature"


@pytest.mark.parametrize("task", EXAMPLES, ids=lambda t: t.name)
def test_metric_names_are_known_without_building_the_metrics(task):
    assert tuple(task.make_metrics()) == tuple(task.metric_names)
    metric, higher = task.primary_metric
    assert metric in task.metric_names and task.metric_higher_is_better(metric) == higher
    assert task.metric_higher_is_better("loss") is False


@pytest.mark.parametrize("task, activation, width", [
    (EXAMPLES[2], "softmax", 4), (EXAMPLES[0], "sigmoid", 1), (EXAMPLES[3], "sigmoid", 2),
    (EXAMPLES[4], "linear", 1), (EXAMPLES[5], "softmax", 3)])
def test_head_per_kind(task, activation, width):
    logits, output = task.make_head()
    assert logits.name == f"{task.name}_logits" and logits.units == width
    assert output.name == task.name and output.activation.__name__ == activation


def test_the_monitor_direction_comes_from_the_task():
    tasks = (Task("a", "binary"), Task("a_b", "regression"), Task("c", "multiclass", ("x", "y")))
    assert higher_is_better("val_loss", tasks) is False
    assert higher_is_better("val_a_auc", tasks) is True
    assert higher_is_better("val_a_b_rmse", tasks) is False  # task a_b, not a's metric b_rmse
    assert higher_is_better("c_accuracy", tasks) is True
    assert higher_is_better("val_c_loss", tasks) is False
    assert higher_is_better("train_a_accuracy", tasks) is True
    assert higher_is_better("loss", tasks) is False
    for monitor in monitor_names(tasks):
        higher_is_better(monitor, tasks)  # every listed name has a direction
    assert "val_a_b_mae" in monitor_names(tasks) and "train_c_accuracy" in monitor_names(tasks)
    with pytest.raises(ValueError, match=r"train.monitor: unknown metric 'val_a_rmse'; "
                                         r"valid: val_loss, loss, val_a_loss, val_a_accuracy"):
        higher_is_better("val_a_rmse", tasks)


def test_only_the_layer_compares_kind_strings():
    assert kind_string_comparisons(list_kinds()) == []


# Each way of comparing a kind with a string the scan must see (line numbers 2 to 8), and
# comparisons it must leave alone (a capability, an unrelated `kind`, an unknown string).
COMPARING = """\
def f(task, config, kinds, blocks):
    a = task.kind == "binary"
    b = config["kind"] in ("multiclass", "x")
    c = config.get("kind") != "regression"
    d = getattr(task, "kind") not in ["multilabel"]
    kind = task.kind
    e = kind == "binary"
    match task.kind:
        case "token_multiclass" | "binary":
            pass
    for kind2, text in blocks:
        g = kind2 == "binary"
    h = isinstance(task, BinaryTask) or task.kind == "ordinal" or "binary" in kinds
"""


def test_the_scan_sees_every_way_of_comparing_a_kind_and_only_outside_the_layers():
    files = {"data/x.py": COMPARING, "tasks/x.py": COMPARING}
    assert kind_string_comparisons(list_kinds(), files) == [
        f"data/x.py:{line}" for line in (2, 3, 4, 5, 7, 8)]


def test_an_esmm_task_must_be_binary_as_the_kind_says():
    from models.architectures.esmm import funnel_tasks
    tasks = (Task("click", "binary"), Task("conversion", "regression"))
    assert isinstance(funnel_tasks(tasks, "esmm", ctr_task="click")["ctr_task"], BinaryTask)
    with pytest.raises(ValueError, match="'conversion' is a regression task; esmm needs a binary"):
        funnel_tasks(tasks, "esmm", cvr_task="conversion")


class CountTask(RegressionTask):
    """A count: the head's logit is a log-rate, the output the rate, the loss Poisson's."""

    def make_head(self):
        import keras
        return (keras.layers.Dense(1, name=f"{self.name}_logits"),
                keras.layers.Activation("exponential", name=self.name))

    def per_example_loss(self, y_true, logits, options=None):
        y = tf.reshape(tf.cast(y_true, tf.float32), tf.shape(logits))
        return tf.reduce_mean(tf.exp(logits) - y * logits, axis=-1)

    def sample_labels(self, n, rng, lengths=None):
        return rng.poisson(3.0, (n, 1)).astype(np.float32)


@pytest.fixture
def count_kind(monkeypatch):
    """`test_count` registered for one test (the registry's table is left as it was)."""
    monkeypatch.setitem(TASK_KINDS._entries, "test_count", CountTask)


def test_a_new_kind_is_one_class_and_trains_exports_and_serves(tmp_path, count_kind):
    import keras
    assert "test_count" in list_kinds()
    keras.utils.set_random_seed(1)  # a fixed init: with 8 examples a ReLU tower can start dead
    tasks = (Task("visits", "test_count"), Task("digit", "multiclass", ("0", "1", "2")))
    model = run_architecture_test(tmp_path, "shared_bottom", {"tower_units": [4]},
                                  tasks=tasks, inputs=IMAGE_INPUTS)
    assert model.get_layer("visits").activation.__name__ == "exponential"
