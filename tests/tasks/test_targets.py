"""What the kinds add for tabular data: regression target statistics (a standardised loss, an
output in the label's units, config round trip), class-name outputs, and binary labels derived
from another column's cells (`positive`)."""

import numpy as np
import pytest
import tensorflow as tf

import models
from inputs import InputSpec
from tasks import Task


def test_target_statistics_round_trip_and_checks():
    task = Task("mass", "regression").with_label_statistics(
        np.array([3000.0, 5000.0, np.nan, 4000.0]), counts=np.array([1, 1, 7, 2]))
    assert task.target_mean == pytest.approx(4000.0)
    assert task.target_std == pytest.approx(np.sqrt(0.5 * 1e6))  # weights 1, 1, 2
    assert Task.from_config(task.to_config()) == task
    assert "target_mean" not in Task("a", "binary").to_config()  # unchanged for other kinds
    assert Task("c", "regression").with_label_statistics([7.0, 7.0]).target_std == 1.0
    assert Task("d", "regression").with_label_statistics([np.nan]).target_mean is None
    with pytest.raises(ValueError, match="target_mean/target_std are for kinds that standardise"):
        Task("b", "binary", target_mean=1.0, target_std=2.0)
    with pytest.raises(ValueError, match="give both target_mean and target_std"):
        Task("r", "regression", target_mean=1.0)
    with pytest.raises(ValueError, match="target_std finite and > 0"):
        Task("r", "regression", target_mean=1.0, target_std=0.0)


def test_standardised_loss_and_output_in_the_labels_units(tmp_path):
    task = Task("mass", "regression", target_mean=4000.0, target_std=500.0)
    y = tf.constant([[4500.0], [3000.0]])
    logits = tf.constant([[1.0], [0.0]])
    # (y - mean) / std = 1, -2: squared errors 0 and 4.
    np.testing.assert_allclose(task.per_example_loss(y, logits).numpy(), [0.0, 4.0])
    model = models.MultiTaskModel(
        tasks=[task.to_config(), Task("sp", "multiclass", ("Adelie", "Gentoo")).to_config()],
        inputs=[InputSpec("x", "numeric", mean=0.0, variance=1.0, fill_value=0.0).to_config()],
        architecture="shared_bottom", encoder="mlp", encoder_args={"units": [4]},
        args={"tower_units": [4]})
    x = {"x": np.array([0.0, 1.0, -2.0], np.float32)}
    outputs, logits, _ = model.training_view()(x, training=False)
    np.testing.assert_allclose(outputs["mass"], logits["mass"] * 500.0 + 4000.0, rtol=1e-6)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = models.load_model(path)
    assert loaded.tasks[0] == task
    np.testing.assert_allclose(loaded.predict(x, verbose=0)["mass"], outputs["mass"], rtol=1e-6)


def test_class_names_are_served_beside_the_probabilities():
    multi = Task("sp", "multiclass", ("Adelie", "Chinstrap", "Gentoo"))
    out = multi.serving_outputs(tf.constant([[0.1, 0.2, 0.7], [0.8, 0.1, 0.1]]))
    assert out["sp_label"].numpy().tolist() == [b"Gentoo", b"Adelie"]
    assert out["sp_class"].numpy().tolist() == [2, 0]
    binary = Task("income", "binary", ("- 50000.", "50000+."))
    out = binary.serving_outputs(tf.constant([[0.2], [0.5], [0.9]]))
    assert out["income_label"].numpy().tolist() == [b"- 50000.", b"50000+.", b"50000+."]
    assert set(Task("v", "regression").serving_outputs(tf.constant([[1.0]]))) == {"v"}


def test_binary_positive_derives_a_label_from_any_column():
    kind = type(Task("t", "binary"))
    assert "positive" in kind.label_options
    cells = ["Never married", "Divorced", None, "Widowed", "Never married"]
    present = [c for c in cells if c is not None]
    classes = kind.classes_from_text(present, "never_married", positive=["Never married"])
    task = Task("never_married", "binary", classes)
    assert task.classes == ("no", "yes")
    np.testing.assert_array_equal(
        task.labels_from_text(cells, where=str, positive=["Never married"]), [1, 0, -1, 0, 1])
    with pytest.raises(ValueError, match=r"positive: \['Single'\] must match some but not all"):
        kind.classes_from_text(present, "never_married", positive=["Single"])
