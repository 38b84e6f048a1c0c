"""serving/client.py: a model's tasks read from its metadata (REST and gRPC alike), and each
task's answer read by its kind, never by the shape or range of the numbers."""

import numpy as np
import pytest

from serving.client import GrpcClient, RestClient, ServedTask, format_rows, run_predict

TOY_TASKS = [("brightness", "regression", ("brightness",)),
             ("digit", "multiclass", ("digit", "digit_class")),
             ("is_even", "binary", ("is_even",))]


@pytest.fixture(params=["rest", "grpc"])
def client(request, server):
    c = RestClient(port=server.rest_port) if request.param == "rest" else \
        GrpcClient(port=server.grpc_port)
    yield c
    c.close()


def test_describe_reads_inputs_and_tasks_from_the_metadata(client):
    info = client.describe("toy")
    assert info.inputs == {"image": ("uint8", [-1, 28, 28, 1])}
    assert [(t.name, t.kind, t.outputs) for t in info.tasks] == TOY_TASKS
    # A model without a `tasks` signature has no described tasks.
    tab = client.describe("tab")
    assert tab.tasks == [] and tab.inputs == {"age": ("float32", [-1]), "city": ("string", [-1])}


def row(outputs, labels, tasks):
    return {"outputs": {k: np.asarray(v) for k, v in outputs.items()}, "labels": labels,
            "tasks": tasks}


def test_each_kind_reads_its_own_way():
    tasks = [ServedTask("churn", "binary", ("churn", "churn_label")),
             ServedTask("income", "regression", ("income",)),
             ServedTask("tags", "multilabel", ("tags",)),
             ServedTask("topic", "multiclass", ("topic", "topic_class"))]
    outputs = {"churn": 0.25, "churn_label": b"no", "income": 0.75, "tags": [0.9, 0.2, 0.7],
               "topic": [0.1, 0.7, 0.2], "topic_class": 1}
    labels = {"churn": 0, "income": 1.0, "tags": [1, 0, 1], "topic_class": 2}
    line = format_rows([row(outputs, labels, tasks)])
    # A probability is thresholded only for a binary task: 0.75 of a regression is a value.
    assert line == ("example 0: churn=0.250 true=0 ok | income=0.750 true=1.0 MISS | "
                    "tags=0 (p=0.90) true=[1, 0, 1] ok | topic=1 (p=0.70) true=2 MISS")


def test_per_token_answers_stop_at_the_sentence_length():
    tasks = [ServedTask("chunk", "token_multiclass", ("chunk", "chunk_class", "chunk_label"))]
    probabilities = np.eye(3)[[2, 0, 1, 0]]  # classes 2 0 1, then a padded token
    line = format_rows([row({"chunk": probabilities, "sequence_length": 3, "tokens": ["a"] * 4},
                            {"chunk_class": np.array([2, 0, 1])}, tasks)])
    assert line == "example 0: chunk=2 0 1 true=[2, 0, 1] ok"


def test_outputs_of_an_undescribed_model_are_shown_one_by_one(server):
    client = RestClient(port=server.rest_port)
    rows = run_predict(client, "tab", {"age": np.array([30.0], np.float32),
                                       "city": np.array(["paris"], object)})
    line = format_rows(rows)
    assert rows[0]["tasks"] == [] and line.startswith("example 0: churn=")
    assert "| city_bytes=" in line and "| segment=0 (p=0.40) | segment_class=0" in line
    client.close()
