"""Id inputs at recommender scale: hashed ids, lists of ids pooled by mean or sum with their
padding masked, embedding tables shared between inputs holding the same ids, a text column
pooled beside the others, all through build/train/save/export/serve (REST); hashing is the
same in another process and in the exported graph; bad declarations are named."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from inputs import InputSpec
from models.preprocessing import model_inputs, preprocess
from tasks import Task
from tests.helpers import REPO
from tests.models.helpers import build, run_architecture_test

ITEMS = ("i1", "i2", "i3", "i4")
RECSYS_INPUTS = (
    InputSpec("user_id", "hashed", dtype="string", num_buckets=64, embedding_dim=4),
    InputSpec("item_id", "categorical", dtype="string", vocabulary=ITEMS, fill_value="i1",
              num_oov_buckets=2, embedding_dim=3, shared_embedding="items"),
    InputSpec("clicked", "id_list", dtype="string", vocabulary=ITEMS, num_oov_buckets=2,
              embedding_dim=3, shared_embedding="items", pooling="mean"),
    InputSpec("tags", "id_list", dtype="string", num_buckets=16, embedding_dim=2, pooling="sum",
              separator="|"),
    InputSpec("review", "text", dtype="string", vocabulary=("good", "bad"), embedding_dim=4,
              pooling="mean"),
    InputSpec("price", "numeric", mean=10.0, variance=4.0, fill_value=10.0))
TASKS = (Task("click", "binary"), Task("topic", "multiclass", ("a", "b", "c")))


def test_ids_lists_shared_tables_and_text_columns_train_export_and_serve(tmp_path):
    model = run_architecture_test(tmp_path, "mmoe", {"num_experts": 2, "expert_units": [4],
                                                     "tower_units": [4]},
                                  encoder="mlp", encoder_args={"units": [4]}, tasks=TASKS,
                                  inputs=RECSYS_INPUTS, serve_rest=True,
                                  expected_gates={"gate_click": 2, "gate_topic": 2})
    # One table for item_id and clicked: 4 ids + 2 OOV rows, 3 wide.
    shared = model.get_layer("shared_items_embed")
    assert shared.get_weights()[0].shape == (6, 3)
    assert not [layer for layer in model.layers if layer.name in ("item_id_embed", "clicked_embed")]
    assert model.get_layer("user_id_embed").get_weights()[0].shape == (64, 4)


def features(specs, values):
    inputs = model_inputs(specs)
    import keras
    return keras.Model(inputs, preprocess(inputs, specs))({k: tf.constant(v) for k, v in
                                                           values.items()}).numpy()


def test_a_list_pools_its_real_ids_only():
    clicked, item = RECSYS_INPUTS[2], RECSYS_INPUTS[1]
    specs = (item, clicked)
    inputs = model_inputs(specs)
    import keras
    model = keras.Model(inputs, preprocess(inputs, specs))
    table = model.get_layer("shared_items_embed").get_weights()[0]
    out = model({"item_id": tf.constant(["i1", "i1"]),
                 "clicked": tf.constant([["i1", "i3", ""], ["", "", ""]])}).numpy()
    row = {t: 2 + i for i, t in enumerate(ITEMS)}  # 2 OOV rows first
    np.testing.assert_allclose(out[0, 3:], (table[row["i1"]] + table[row["i3"]]) / 2, rtol=1e-6)
    np.testing.assert_allclose(out[1, 3:], 0.0)  # an empty list
    np.testing.assert_allclose(out[0, :3], table[row["i1"]], rtol=1e-6)  # the same table
    # A cell with a separator splits in the graph: "x|y" is the list ["x", "y"].
    tags = RECSYS_INPUTS[3]
    cell = features((tags,), {"tags": np.array(["x|y", "x", ""], object)})
    lists = features((InputSpec("tags", "id_list", dtype="string", num_buckets=16,
                                embedding_dim=2, pooling="sum"),),
                     {"tags": np.array([["x", "y"], ["x", ""], ["", ""]], object)})
    assert cell.shape == lists.shape == (3, 2)
    np.testing.assert_allclose(cell[2], 0.0)


HASH_SCRIPT = """
import json, sys, keras, tensorflow as tf
ids = json.loads(sys.argv[1])
print(json.dumps(keras.layers.Hashing(1000)(tf.constant(ids)).numpy().tolist()))
"""


@pytest.mark.slow  # a fresh Python process imports TensorFlow
def test_hashing_is_stable_across_processes_and_in_the_exported_graph(tmp_path):
    import keras

    from models.export import export_saved_model
    ids = ["u1", "u2", "user-0042", "ü", ""]
    here = keras.layers.Hashing(1000)(tf.constant(ids)).numpy().tolist()
    there = subprocess.run([sys.executable, "-c", HASH_SCRIPT, json.dumps(ids)], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout
    assert json.loads(there.strip().splitlines()[-1]) == here
    assert here == tf.strings.to_hash_bucket_fast(ids, 1000).numpy().tolist()  # FarmHash64
    # The exported model answers as the training model: the same buckets, the same rows.
    model = build("shared_bottom", {"tower_units": [2]}, "mlp", {"units": [2]},
                  (Task("click", "binary"),), (RECSYS_INPUTS[0],))
    served = tf.saved_model.load(export_saved_model(model, str(tmp_path / "e")))
    x = np.array(ids, object)
    got = served.signatures["serving_default"](user_id=tf.constant(x))["click"].numpy()
    np.testing.assert_allclose(got, model.predict({"user_id": x}, verbose=0)["click"][:, 0],
                               rtol=1e-6)


def test_bad_id_declarations_are_named():
    with pytest.raises(ValueError, match="Input 'user': num_buckets must be an integer >= 1 to "
                                         "hash ids; got 0"):
        InputSpec("user", "hashed", dtype="string", num_buckets=0)
    with pytest.raises(ValueError, match="needs num_buckets >= 1 .* or a vocabulary"):
        InputSpec("clicks", "id_list", dtype="string")
    with pytest.raises(ValueError, match="pooling must be one of mean, sum; got 'max'"):
        InputSpec("clicks", "id_list", dtype="string", num_buckets=4, pooling="max")
    a = InputSpec("a", "hashed", dtype="string", num_buckets=8, shared_embedding="t")
    b = InputSpec("b", "hashed", dtype="string", num_buckets=9, shared_embedding="t")
    with pytest.raises(ValueError, match="Input 'b': shared_embedding 't' is 8 x 6, this input "
                                         "needs 9 x 6"):
        model_inputs_and_preprocess((a, b))


def model_inputs_and_preprocess(specs):
    return preprocess(model_inputs(specs), specs)
