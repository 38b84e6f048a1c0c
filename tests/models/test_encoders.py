"""Encoders: registry errors, shapes, stages (for cross-stitch), keras.applications backbones."""

import numpy as np
import pytest

from models.encoders import encoder_stages, make_encoder


def test_cnn_and_mlp_shapes_and_layer_prefix():
    cnn = make_encoder("cnn", (8, 8, 1), name="trunk", filters=(4, 8), units=16)
    assert cnn.output_shape == (None, 16)
    assert all(layer.name.startswith("trunk_") for layer in cnn.layers)
    mlp = make_encoder("mlp", (5,), name="m", args={"units": [6, 3]})
    assert mlp.output_shape == (None, 3)


def test_stages_end_at_pools_and_dense_layers():
    cnn = make_encoder("cnn", (8, 8, 1), name="e", filters=(4, 8), units=16, dropout=0.1)
    stages = [[layer.name for layer in stage] for stage in encoder_stages(cnn)]
    assert stages == [["e_conv0a", "e_conv0b", "e_pool0"], ["e_conv1a", "e_conv1b", "e_pool1"],
                      ["e_flatten", "e_dropout", "e_dense"]]
    mlp = make_encoder("mlp", (5,), name="m", units=(6, 3), dropout=0.5)
    assert [[layer.name for layer in s] for s in encoder_stages(mlp)] == [
        ["m_dense0", "m_dropout0"], ["m_dense1", "m_dropout1"]]


def test_unknown_encoder_and_argument():
    with pytest.raises(ValueError, match="known encoders: bilstm, cnn, keras_application, mlp, trans"):
        make_encoder("resnet", (8, 8, 1))
    with pytest.raises(ValueError, match=r"encoder_args.width: unknown argument.*filters"):
        make_encoder("cnn", (8, 8, 1), width=3)


def test_keras_application_resizes_small_grey_images():
    enc = make_encoder("keras_application", (8, 8, 1), name="bb", args={
        "name": "MobileNetV2", "backbone_args": {"alpha": 0.35}, "pixel_scale": 2.0,
        "pixel_offset": -1.0, "units": 16})
    assert enc.get_layer("bb_resize").output.shape == (None, 32, 32, 3)
    out = enc(np.random.default_rng(0).random((2, 8, 8, 1)).astype("float32"))
    assert out.shape == (2, 16)


def test_keras_application_errors():
    with pytest.raises(ValueError, match="name: unknown value 'MobileNetV9'; valid: .*MobileNetV2"):
        make_encoder("keras_application", (8, 8, 1), args={"name": "MobileNetV9"})
    with pytest.raises(ValueError, match=r"needs images \[H, W, C\]"):
        make_encoder("keras_application", (5,), args={"name": "MobileNetV2"})


def test_keras_application_declares_every_keras_application():
    import keras

    from models.encoders import ENCODERS
    declared = ENCODERS.get("keras_application").declared_arguments["name"].choices
    assert list(declared) == sorted(n for n in dir(keras.applications) if n[:1].isupper())


def test_keras_application_loads_a_local_weights_file(tmp_path):
    args = {"name": "MobileNetV2", "backbone_args": {"alpha": 0.35}}
    first = make_encoder("keras_application", (8, 8, 3), name="a", args=args)
    backbone = first.layers[-1]
    path = str(tmp_path / "backbone.weights.h5")
    backbone.save_weights(path)
    second = make_encoder("keras_application", (8, 8, 3), name="b",
                          args={**args, "weights": path, "trainable": False})
    x = np.random.default_rng(1).random((2, 8, 8, 3)).astype("float32")
    # (A frozen BatchNorm takes another kernel: equal up to float error.)
    np.testing.assert_allclose(second(x, training=False), first(x, training=False), atol=2e-3)
    assert not second.trainable_weights
