"""CoNLL-2000 end to end on the fixture: `train.py --config configs/conll2000_tiny.yaml`,
`evaluate.py` printing chunk F1 and POS accuracy, `export.py`, then `serve.py` answering a
raw sentence over REST and gRPC with the in-process model's tags per token."""

import os
import subprocess
import sys

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

import models
from tests.helpers import REPO, http_json, serve_subprocess

pytestmark = pytest.mark.slow

SENTENCE = "He reckons the current account deficit will narrow ."


def run(*args):
    result = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def tagger(tmp_path_factory):
    root = tmp_path_factory.mktemp("conll2000")
    run_dir, base = str(root / "run"), str(root / "exported" / "conll2000")
    run("train.py", "--config", "configs/conll2000_tiny.yaml", "--output", run_dir,
        "--set", f"data.data_dir={root / 'tfds'}")
    report = run("evaluate.py", "--run", run_dir)
    run("export.py", "--run", run_dir, "--export_base", base)
    model = models.load_model(os.path.join(run_dir, "best.keras"))
    with serve_subprocess("conll2000", base, str(root / "server.log")) as (url, grpc_port):
        yield dict(model=model, report=report, url=url, grpc_port=grpc_port)


def test_evaluate_prints_chunk_f1_and_pos_accuracy(tagger):
    lines = {line.split()[0]: line for line in tagger["report"].splitlines()
             if line.startswith("  ")}
    assert "f1=" in lines["chunk"] and "precision=" in lines["chunk"]
    assert "accuracy=" in lines["pos"]


def in_process(model, sentence):
    out = model({"text": tf.constant([sentence])})
    tasks = {t.name: t for t in model.tasks}
    return {name: [tasks[name].classes[i] for i in np.argmax(out[name][0], -1)]
            for name in ("pos", "chunk")}


def test_rest_answers_a_raw_sentence_with_the_models_tags(tagger):
    status, body = http_json("POST", tagger["url"] + ":predict",
                             {"instances": [{"text": SENTENCE}]})
    assert status == 200, body
    row = body["predictions"][0]
    want = in_process(tagger["model"], SENTENCE)
    assert row["tokens"] == SENTENCE.split()
    assert row["pos_label"] == want["pos"] and row["chunk_label"] == want["chunk"]
    assert len(row["chunk"]) == len(SENTENCE.split()) and len(row["chunk"][0]) == 23


def test_grpc_answers_the_same(tagger):
    with grpc.insecure_channel(f"127.0.0.1:{tagger['grpc_port']}") as channel:
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "conll2000"
        request.inputs["text"].CopyFrom(tf.make_tensor_proto([SENTENCE]))
        response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(
            request, timeout=30)
    want = in_process(tagger["model"], SENTENCE)
    for task in ("pos", "chunk"):
        got = [v.decode() for v in tf.make_ndarray(response.outputs[f"{task}_label"])[0]]
        assert got == want[task]
