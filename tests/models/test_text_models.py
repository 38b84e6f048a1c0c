"""Text input and token tasks through the shared architecture path, masking, the
hierarchical placement of tasks at encoder depths, and served answers per token."""

import json
import urllib.request

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from inputs import InputSpec
from models.export import export_saved_model
from tasks import Task
from tests.models.helpers import build, run_architecture_test, served_like_keras

VOCAB = ("the", "deficit", "will", "narrow", "he", "reckons", "current", "account")
SENTENCE = InputSpec("text", "text", dtype="string", vocabulary=VOCAB, embedding_dim=8)
WITH_CHARS = InputSpec("text", "text", dtype="string", vocabulary=VOCAB, embedding_dim=8,
                       char_features=4)
TOKENS = InputSpec("tokens", "text", shape=(None,), dtype="string", vocabulary=VOCAB,
                   lowercase=True, embedding_dim=8)
TAGS = (Task("pos", "token_multiclass", ("DT", "NN", "MD", "VB", "PRP", "VBZ", "JJ")),
        Task("chunk", "token_multiclass", ("O", "B-NP", "I-NP", "B-VP", "I-VP")))
BILSTM = {"units": [6]}
TRANSFORMER = {"units": 8, "num_heads": 2, "num_layers": 1, "ff_units": 8, "dropout": 0.0}
HIERARCHICAL = {"task_levels": {"pos": 1, "chunk": 2}, "level_encoders": True,
                "tower_units": [4]}


@pytest.mark.parametrize("architecture,encoder,encoder_args,args,inputs", [
    ("hierarchical", "bilstm", BILSTM, HIERARCHICAL, (SENTENCE,)),
    ("shared_bottom", "transformer", TRANSFORMER, {"tower_units": [4]}, (TOKENS,)),
    ("single_task", "bilstm", BILSTM, {"tower_units": []}, (WITH_CHARS,)),
    ("cross_stitch", "bilstm", {"units": [4, 4]}, {"tower_units": [4]}, (SENTENCE,)),
])
def test_token_tasks_through_the_shared_path(tmp_path, architecture, encoder, encoder_args, args,
                                             inputs):
    # Build, train on arrays and tf.data, .keras round trip, export, served == Keras.
    run_architecture_test(tmp_path, architecture, args, encoder=encoder,
                          encoder_args=encoder_args, tasks=TAGS, inputs=inputs)


def test_gradient_methods_train_token_tasks():
    import keras

    from tests.models.helpers import make_batch
    from training.testing import train_config
    from training.trainer import Trainer

    model = build("hierarchical", HIERARCHICAL, "bilstm", BILSTM, TAGS, (SENTENCE,))
    for method in ("pcgrad", "uncertainty"):
        trainer = Trainer(model, TAGS, train_config(weighting=method),
                          optimizer=keras.optimizers.SGD(0.01), verbose=0)
        loss, weights = trainer.train_step(make_batch(TAGS, (SENTENCE,), n=4))
        assert np.isfinite(float(loss)) and weights.shape == (2,)
    # The tasks share the embedding, level 1 and POS's tower (which level 2 reads too).
    from training.sharing import find_shared
    assert find_shared(model).layer_names == ["text_embed", "level1", "tower_pos_0"]


@pytest.mark.parametrize("encoder,encoder_args,architecture,args,spec", [
    ("bilstm", BILSTM, "hierarchical", HIERARCHICAL, SENTENCE),
    ("transformer", TRANSFORMER, "shared_bottom", {"tower_units": [4]}, SENTENCE),
    ("bilstm", {"units": [4, 4]}, "cross_stitch", {"tower_units": [4]}, SENTENCE),
    ("bilstm", BILSTM, "shared_bottom", {"tower_units": [4]}, WITH_CHARS),
])
def test_padding_changes_no_answer(encoder, encoder_args, architecture, args, spec):
    # A sentence alone, and padded beside a longer one: the same answer for its tokens. Without
    # the mask the backward LSTM would start in the padding and attention would read it (and
    # the longer sentence's longer words pad the character CNN's input).
    model = build(architecture, args, encoder, encoder_args, TAGS, (spec,))
    alone = model({"text": tf.constant(["he reckons the deficit"])})
    batch = model({"text": tf.constant(["he reckons the deficit",
                                        "the current account deficit will narrow the deficit"])})
    for task in ("pos", "chunk"):
        np.testing.assert_allclose(batch[task][0, :4], alone[task][0], atol=1e-5)


def test_hierarchical_puts_pos_at_level_1_and_chunk_at_level_2_over_it():
    model = build("hierarchical", HIERARCHICAL, "bilstm", BILSTM, TAGS, (SENTENCE,))
    # Level 2 reads level 1's states (2 x 6) and the POS tower (4), per token.
    assert model.get_layer("level2_input").output.shape == (None, None, 16)
    assert model.get_layer("level1").output.shape == (None, None, 12)
    # POS depends on level 1 alone: changing level 2's weights changes chunk, not POS.
    x = {"text": tf.constant(["he reckons the deficit will narrow"])}
    before = {k: np.asarray(v) for k, v in model(x).items()}
    level2 = model.get_layer("level2")
    level2.set_weights([w * 0.5 for w in level2.get_weights()])
    after = model(x)
    np.testing.assert_allclose(after["pos"], before["pos"], atol=1e-6)
    assert np.abs(np.asarray(after["chunk"]) - before["chunk"]).max() > 1e-4
    with pytest.raises(ValueError, match="level_units: 3 widths for 2 levels"):
        build("hierarchical", {"task_levels": {"pos": 1, "chunk": 2}, "level_units": [4, 4, 4]},
              "mlp", {"units": [4]}, TAGS, (SENTENCE,))


def test_text_encoders_refuse_per_example_features():
    with pytest.raises(ValueError, match="bilstm needs token sequences"):
        build("shared_bottom", {}, "bilstm", BILSTM,
              (Task("a", "binary"),), (InputSpec("x", "numeric", shape=(3,)),))


@pytest.fixture(scope="module")
def served_tagger(tmp_path_factory):
    """A hierarchical tagger exported and served in-process (REST and gRPC ports)."""
    from serving.flags import parse_flags
    from serving.server import ModelServer

    model = build("hierarchical", HIERARCHICAL, "bilstm", BILSTM, TAGS, (SENTENCE,))
    base = str(tmp_path_factory.mktemp("tagger") / "tagger")
    export_saved_model(model, base)
    server = ModelServer(parse_flags(["--port=0", "--rest_api_port=-1", "--model_name=tagger",
                                      f"--model_base_path={base}"])).start()
    yield model, server
    server.stop()


def rest(port, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/models/tagger:predict",
                                 data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def test_rest_rows_answer_per_token_without_padding(served_tagger):
    model, server = served_tagger
    sentences = ["he reckons the current account deficit will narrow", "the deficit"]
    want = served_like_keras(model, model({"text": tf.constant(sentences)}),
                             {"text": np.array(sentences, dtype=object)})
    rows = rest(server.rest_port, {"instances": [{"text": s} for s in sentences]})["predictions"]
    for i, (row, sentence) in enumerate(zip(rows, sentences)):
        n = len(sentence.split())
        assert row["tokens"] == sentence.split() and row["sequence_length"] == n
        assert row["chunk_label"] == [v.decode() for v in want["chunk_label"][i, :n]]
        assert row["pos_class"] == want["pos_class"][i, :n].tolist()
        np.testing.assert_allclose(row["chunk"], want["chunk"][i, :n], atol=1e-5)
        assert all(label in TAGS[1].classes for label in row["chunk_label"])
    # Columnar answers stay tensors, padded to the longest sentence.
    outputs = rest(server.rest_port, {"inputs": {"text": sentences}})["outputs"]
    assert outputs["tokens"][1] == ["the", "deficit"] + [""] * 6
    assert outputs["sequence_length"] == [8, 2]


def test_grpc_answers_tag_names_per_token(served_tagger):
    model, server = served_tagger
    sentences = np.array(["the deficit will narrow"], dtype=object)
    want = served_like_keras(model, model({"text": tf.constant(sentences.astype(str))}),
                             {"text": sentences})
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "tagger"
        request.inputs["text"].CopyFrom(tf.make_tensor_proto(sentences))
        response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(
            request, timeout=30)
    assert tf.make_ndarray(response.outputs["pos_label"]).tolist() == want["pos_label"].tolist()
    np.testing.assert_allclose(tf.make_ndarray(response.outputs["pos"]), want["pos"], atol=1e-5)


def test_token_loss_is_a_mean_over_labelled_tokens():
    from models.losses import masked_loss_sum

    task = TAGS[1]
    rng = np.random.default_rng(0)
    logits = tf.constant(rng.standard_normal((2, 3, 5)), tf.float32)
    labels = tf.constant([[1, 2, 0], [3, 0, 0]])
    mask = tf.constant([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])  # padding and one unlabelled token
    total, count = masked_loss_sum(task, labels, logits, mask)
    per_token = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits).numpy()
    assert float(count) == 3.0
    np.testing.assert_allclose(float(total), per_token[[0, 0, 1], [0, 1, 0]].sum(), rtol=1e-6)
    # Whatever sits under the mask changes nothing.
    other = tf.constant([[1, 2, 4], [3, 4, 4]])
    assert float(masked_loss_sum(task, other, logits, mask)[0]) == pytest.approx(float(total))
