"""A grouping exported as one SavedModel: each task's served answer equals its group's
network in-process, through every signature; overlapping groups serve as told."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from inputs import InputSpec
from models.grouped_export import GroupedModel, export_grouped_saved_model
from tests.models.helpers import TABULAR_INPUTS, TASKS, assert_served_equal, build, make_batch

DIGIT, BIG, TAGS, VALUE = TASKS
MLP = {"units": [8]}


def network(tasks, inputs=TABULAR_INPUTS, seed=0, architecture="shared_bottom"):
    keras.utils.set_random_seed(seed)
    return build(architecture, {"tower_units": [4]}, encoder="mlp", encoder_args=MLP,
                 tasks=tasks, inputs=inputs)


def expected(networks, serving, x):
    """What each task's serving network answers in-process, as the signature names it."""
    want = {}
    for task, index in serving.items():
        net = networks[index]
        out = net({s.name: x[s.name] for s in net.input_specs}, training=False)[task]
        spec = next(t for t in net.tasks if t.name == task)
        want.update({k: np.asarray(v) for k, v in spec.serving_outputs(out).items()})
    return want


def examples(x):
    return tf.constant([tf.train.Example(features=tf.train.Features(feature={
        "age": tf.train.Feature(float_list=tf.train.FloatList(value=[float(a)])),
        "city": tf.train.Feature(bytes_list=tf.train.BytesList(value=[c.encode()])),
    })).SerializeToString() for a, c in zip(x["age"], x["city"])])


@pytest.fixture(scope="module")
def grouping(tmp_path_factory):
    # Group 1 reads both inputs, group 2 only `age`: the export takes their union.
    networks = [network((DIGIT, BIG), seed=1),
                network((TAGS, VALUE), inputs=TABULAR_INPUTS[:1], seed=2,
                        architecture="cross_stitch")]
    base = str(tmp_path_factory.mktemp("grouped") / "grouping")
    return networks, tf.saved_model.load(export_grouped_saved_model(networks, base))


def test_every_task_is_answered_by_its_groups_network(grouping):
    networks, loaded = grouping
    x = make_batch(TASKS, TABULAR_INPUTS, n=6, seed=3)[0]
    served = loaded.signatures["serving_default"](**{k: tf.constant(v) for k, v in x.items()})
    want = expected(networks, {"digit": 0, "big": 0, "tags": 1, "value": 1}, x)
    assert_served_equal({k: v.numpy() for k, v in served.items()}, want)
    # The same through serialized tf.Examples, and classify / regress.
    via_examples = loaded.signatures["tf_example"](examples=examples(x))
    assert_served_equal({k: v.numpy() for k, v in via_examples.items()}, want)
    scores = loaded.signatures["classify_big"](inputs=examples(x))["scores"].numpy()
    np.testing.assert_allclose(scores[:, 1], want["big"], rtol=1e-5, atol=1e-6)
    values = loaded.signatures["regress_value"](inputs=examples(x))["outputs"].numpy()
    np.testing.assert_allclose(values, want["value"], rtol=1e-5, atol=1e-6)
    assert sorted(loaded.signatures) == ["classify_big", "classify_digit", "regress_value",
                                         "serving_default", "tasks", "tf_example"]
    # `tasks` names each output after its task and kind, from the group that serves it.
    by_task = loaded.signatures["tasks"](examples=examples(x))
    np.testing.assert_allclose(by_task["value.regression.value"].numpy(), want["value"],
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(by_task["big.binary.big"].numpy(), want["big"], rtol=1e-5,
                               atol=1e-6)


def test_overlapping_groups_serve_each_task_from_the_chosen_network(tmp_path):
    networks = [network((DIGIT, BIG), seed=1), network((TAGS, VALUE), seed=2),
                network((BIG, VALUE), seed=3)]
    serving = {"big": 2, "value": 1}
    grouped = GroupedModel(networks, serving)
    assert grouped.serving == {"digit": 0, "big": 2, "tags": 1, "value": 1}
    assert [t.name for t in grouped.tasks] == ["digit", "big", "tags", "value"]
    loaded = tf.saved_model.load(export_grouped_saved_model(networks, str(tmp_path / "g"),
                                                            serving=serving))
    x = make_batch(TASKS, TABULAR_INPUTS, n=4, seed=5)[0]
    served = loaded.signatures["serving_default"](**{k: tf.constant(v) for k, v in x.items()})
    want = expected(networks, grouped.serving, x)
    assert_served_equal({k: v.numpy() for k, v in served.items()}, want)
    # The other network that has `big` answers differently: the choice is real.
    other = expected(networks, {"big": 0}, x)["big"]
    assert not np.allclose(served["big"].numpy(), other, atol=1e-4)


def test_ambiguous_or_impossible_groupings_name_the_key():
    a, b = network((DIGIT, BIG)), network((BIG, VALUE))
    with pytest.raises(ValueError, match=r"grouping\.serving: task 'big' is in networks "
                                         r"\[0, 1\]; say which"):
        GroupedModel([a, b])
    with pytest.raises(ValueError, match=r"grouping\.serving\.digit: network 1 does not "
                                         r"serve 'digit'; valid: \[0\]"):
        GroupedModel([a, b], {"big": 0, "digit": 1})
    with pytest.raises(ValueError, match=r"grouping\.serving: unknown task\(s\) \['tags'\]"):
        GroupedModel([a, b], {"big": 0, "tags": 0})
    other_age = (InputSpec("age", "numeric", mean=0.0, variance=1.0, fill_value=0.0),)
    with pytest.raises(ValueError, match=r"grouping: input 'age' differs between the networks"):
        GroupedModel([a, network((VALUE,), inputs=other_age)])
