"""`data.name: conll` on small files the tests write: CoNLL-2003-style columns with
-DOCSTART- lines and IOB1 entities, CoNLL-U by column name, encodings, compression, split
carving, unseen and invalid tags reported, bad lines naming file and line, the built
batches, and CoNLL-2000 through this reader equal to the dedicated builder."""

import dataclasses
import gzip
import os

import numpy as np
import pytest

import data
from data.csv_options import CsvError
from data.pipeline import load_split
from tests.data.helpers import CONLL2000, whole_split

# CoNLL-2003's layout: token POS chunk NER, IOB1 entities (B- only between two of a type).
CONLL2003_TRAIN = """-DOCSTART- -X- -X- O

EU NNP B-NP I-ORG
rejects VBZ B-VP O
German JJ B-NP I-MISC
call NN I-NP O
. . O O

Peter NNP B-NP I-PER
Blackburn NNP I-NP I-PER
lives VBZ B-VP O
in IN B-PP O
Bonn NNP B-NP I-LOC
Köln NNP I-NP B-LOC
. . O O

-DOCSTART- -X- -X- O
"""
CONLL2003_VALID = """Paris NNP B-NP I-LOC
welcomes VBZ B-VP O
Peter NNP B-NP I-PER
. . O O
"""
CONLL2003_TEST = """-DOCSTART- -X- -X- O

Peter NNP B-NP I-PER
visits VBZ B-VP O
Acme NNP B-NP I-COMPANY
. . O O
"""
CONLLU = """# sent_id = 1
# text = Burda da ?
1\tBurda\tbur\tPRON\tPRD\t_\t3\tnpadvmod\t_\t_
2-3\tdaki\t_\t_\t_\t_\t_\t_\t_\t_
2\tda\tda\tPART\tRPC\t_\t1\tprt\t_\t_
3\t?\t?\tPUNCT\t.\t_\t0\troot\t_\t_

# sent_id = 2
1\tBen\tben\tPRON\tPRD\t_\t2\tnsubj\t_\t_
2\tgeldim\tgel\tVERB\tVB\t_\t0\troot\t_\t_
2.1\tx\t_\t_\t_\t_\t_\t_\t_\t_
3\t.\t.\tPUNCT\t.\t_\t2\tpunct\t_\t_
"""
COLUMNS = ["token", "pos", "chunk", "ner"]


def write(path, text, encoding="utf-8", compress=False):
    raw = text.encode(encoding)
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return str(path)


@pytest.fixture
def conll2003(tmp_path):
    return {"train": write(tmp_path / "eng.train", CONLL2003_TRAIN),
            "validation": write(tmp_path / "eng.testa", CONLL2003_VALID),
            "test": write(tmp_path / "eng.testb", CONLL2003_TEST)}


def spec_of(tmp_path, files, **options):
    options = {"columns": COLUMNS, "tasks": {"pos": "pos", "ner": {"column": "ner",
                                                                     "scheme": "iob1"}},
               "min_count": 1,
               "data_dir": str(tmp_path / "tfds"), **files, **options}
    return data.get_dataset("conll", **options)


def test_conll2003_columns_docstart_iob1_and_unseen_test_tags(tmp_path, conll2003):
    spec = spec_of(tmp_path, conll2003)
    schema = spec.builder_kwargs["config"].schema
    assert schema.rows == {"train": 2, "validation": 1, "test": 1}  # -DOCSTART- skipped
    ner = spec.task("ner")
    assert ner.scheme == "iob1" and ner.classes == ("O", "B-LOC", "I-LOC", "I-MISC", "I-ORG",
                                                    "I-PER")
    assert ner.metric_names == ("accuracy", "precision", "recall", "f1")
    report = schema.format()
    assert f"test: 1 tokens with tags outside the tag set, masked: 'I-COMPANY' x1 (first " \
           f"{conll2003['test']}, line 5)" in report
    x, labels, masks = whole_split(spec, "test", str(tmp_path / "tfds"))
    assert x["text"][0].decode() == "Peter visits Acme ."
    assert [ner.classes[i] if m else None for i, m in zip(labels["ner"][0], masks["ner"][0])] \
        == ["I-PER", "O", None, "O"]


def test_invalid_tags_are_counted_and_kept(tmp_path, conll2003):
    spec = spec_of(tmp_path, conll2003, tasks={"ner": {"column": "ner", "scheme": "iob2"}})
    report = spec.builder_kwargs["config"].schema.format()
    # IOB1's I-X after O breaks IOB2: counted with the first place, scored as conlleval reads.
    assert "tags invalid under iob2, scored as conlleval reads them (first" in report
    assert "'I-ORG' first" in report or "'I-PER' first" in report or "'I-LOC' first" in report


def test_conllu_by_column_name_skips_comments_ranges_and_empty_nodes(tmp_path):
    path = write(tmp_path / "tr.conllu", CONLLU)
    spec = data.get_dataset("conll", train=path, test=path, format="conllu", min_count=1,
                            tasks={"upos": "UPOS", "xpos": "XPOS", "deprel": "DEPREL"},
                            split={"validation": 0.5}, seed=0, data_dir=str(tmp_path / "tfds"))
    assert spec.task("upos").classes == ("PART", "PRON", "PUNCT", "VERB") or \
        set(spec.task("upos").classes) <= {"PART", "PRON", "PUNCT", "VERB"}
    x, labels, _ = whole_split(spec, "test", str(tmp_path / "tfds"))
    assert [t.decode() for t in x["text"]] == ["Burda da ?", "Ben geldim ."]
    with pytest.raises(CsvError, match="data.options.tasks.lemma.column: unknown tag column "
                                       "'LEMMAS'; valid: ID, FORM, LEMMA, UPOS"):
        data.get_dataset("conll", train=path, format="conllu", tasks={"lemma": "LEMMAS"})


def test_encodings_and_compression(tmp_path):
    latin = {"train": write(tmp_path / "l.train.gz", CONLL2003_TRAIN, "latin-1", compress=True),
             "validation": write(tmp_path / "l.testa", CONLL2003_VALID, "latin-1"),
             "test": write(tmp_path / "l.test", CONLL2003_TEST, "latin-1")}
    with pytest.raises(CsvError, match=r"l.train.gz, line 14: not utf-8 text \(invalid "
                                       r"start byte at byte 1 .*data.options.encoding"):
        spec_of(tmp_path, latin)
    spec = spec_of(tmp_path, latin, encoding="latin-1")
    assert "Köln" in spec.inputs[0].vocabulary


def test_bad_lines_and_options_name_file_line_and_key(tmp_path, conll2003):
    bad = write(tmp_path / "bad.train", CONLL2003_TRAIN.replace("rejects VBZ B-VP O",
                                                                 "rejects VBZ O"))
    with pytest.raises(CsvError, match=r"bad.train, line 4: 3 columns, expected 4 \(token pos "
                                       r"chunk ner; separated by whitespace\): 'rejects VBZ O'"):
        spec_of(tmp_path, {**conll2003, "train": bad})
    with pytest.raises(CsvError, match="data.options.tasks.ner.column: unknown tag column 'NER'; "
                                       "valid: token, pos, chunk, ner"):
        spec_of(tmp_path, conll2003, tasks={"ner": "NER"})
    with pytest.raises(CsvError, match="data.options.tasks.ner.scheme: unknown tagging scheme "
                                       "'bilou'; valid: iob1, iob2, bioes, bio, iob, none"):
        spec_of(tmp_path, conll2003, tasks={"ner": {"column": "ner", "scheme": "bilou"}})
    bioes = write(tmp_path / "bioes.train", CONLL2003_TRAIN.replace("I-ORG", "S-ORG"))
    with pytest.raises(CsvError, match=r"bioes.train, line 3, column 'ner': tag 'S-ORG' is not "
                                       r"a iob1 tag \(data.options.tasks.ner.scheme\); valid: O "
                                       "or B-X, I-X"):
        spec_of(tmp_path, {**conll2003, "train": bioes})
    with pytest.raises(CsvError, match="data.options.columns: required for format conll"):
        data.get_dataset("conll", train=conll2003["train"], tasks={"ner": "ner"})
    with pytest.raises(CsvError, match="data.options.encoding: unknown encoding 'latin-9x'"):
        spec_of(tmp_path, conll2003, encoding="latin-9x")
    spaced = write(tmp_path / "s.conllu", CONLLU.replace("\tBurda\t", "\tBur da\t"))
    with pytest.raises(CsvError, match=r"s.conllu, line 3: a token holds whitespace.*input: "
                                       "tokens"):
        data.get_dataset("conll", train=spaced, format="conllu", tasks={"upos": "UPOS"},
                         split={"validation": 0.5}, min_count=1, data_dir=str(tmp_path / "t"))


def test_conll2000_through_this_reader_is_the_dedicated_builders_data(tmp_path):
    from data.conll2000 import CHUNK_TAGS, POS_TAGS

    data_dir = str(tmp_path / "tfds")
    files = dict(train=os.path.join(CONLL2000, "train.txt"), test=os.path.join(CONLL2000,
                                                                               "test.txt"),
                 columns=["token", "pos", "chunk"], data_dir=data_dir)
    # The dedicated builder's tag sets, declared: the same class ids, nothing masked.
    ours = data.get_dataset("conll", **files, tasks={
        "pos": {"column": "pos", "classes": list(POS_TAGS)},
        "chunk": {"column": "chunk", "classes": list(CHUNK_TAGS), "scheme": "iob2"}})
    theirs = data.get_dataset("conll2000", path=CONLL2000)
    assert ours.tasks == theirs.tasks[:1] + (dataclasses.replace(theirs.tasks[1],
                                                                 scheme="iob2"),)
    # Tag sets read from the training file instead: test tags never seen there are reported.
    read = data.get_dataset("conll", **files, tasks={"pos": "pos", "chunk": "chunk"})
    assert "test: 2 tokens with tags outside the tag set, masked: 'MD' x1" in \
        read.builder_kwargs["config"].schema.format()

    def sentences(spec, splits):
        out = []
        for split in splits:
            x, labels, masks = whole_split(spec, split, data_dir)
            for i, text in enumerate(x["text"]):
                n = len(text.split())
                assert masks["pos"][i][:n].all()
                tags = tuple(tuple(spec.task(t).classes[j] for j in labels[t][i][:n])
                             for t in ("pos", "chunk"))
                out.append((text.decode(), tags))
        return out
    assert sentences(ours, ["test"]) == sentences(theirs, ["test"])
    # The held-out sentences differ (a seeded draw here, the file's end there); together
    # with the training ones they are the same sentences.
    assert sorted(sentences(ours, ["train", "validation"])) == \
        sorted(sentences(theirs, ["train", "validation"]))
    assert ours.task("chunk").bio is not None and ours.task("pos").bio is None


def test_batches_pad_tokens_and_tags(tmp_path, conll2003):
    spec = spec_of(tmp_path, conll2003, input="tokens")
    inputs, labels, masks = next(iter(load_split(spec, "train", spec.tasks,
                                                 str(tmp_path / "tfds"), 4)))
    assert inputs["tokens"].shape[1] == labels["ner"].shape[1] == masks["pos"].shape[1]
    np.testing.assert_array_equal(masks["pos"].numpy() > 0,
                                  inputs["tokens"].numpy() != b"")


@pytest.mark.slow
def test_a_raw_sentence_served_over_rest_and_grpc_answers_as_in_process(tmp_path, conll2003):
    import tensorflow as tf

    from serving.client import GrpcClient
    from tests.helpers import http_json, serve_in_process, train_export
    from tests.models.helpers import assert_served_equal, served_like_keras
    from training.config import load_config

    config = load_config(None, values={
        "data.name": "conll", "data.data_dir": str(tmp_path / "tfds"),
        "data.options": {**conll2003, "columns": COLUMNS, "min_count": 1, "embedding_dim": 8,
                         "tasks": {"pos": "pos", "ner": {"column": "ner", "scheme": "iob1"}},
                         "data_dir": str(tmp_path / "tfds")},
        "model.architecture": "shared_bottom", "model.encoder": "bilstm",
        "model.encoder_args": {"units": [8]}, "model.args": {"tower_units": [8]},
        "train.epochs": 1, "train.batch_size": 2, "train.diagnostics_per_epoch": 0,
        "train.affinity_per_epoch": 0})
    _, model, base = train_export(config, str(tmp_path), "ner")
    sentence = "Peter Blackburn lives in Köln ."
    x = {"text": np.array([sentence], object)}
    want = served_like_keras(model, model({"text": tf.constant(x["text"])}), x)
    with serve_in_process("ner", base) as server:
        status, body = http_json("POST", f"http://127.0.0.1:{server.rest_port}/v1/models/"
                                 "ner:predict", {"instances": [{"text": sentence}]})
        assert status == 200, body
        row = body["predictions"][0]
        assert row["tokens"] == sentence.split()
        assert row["ner_label"] == [model.tasks[1].classes[int(i)] for i in
                                    np.argmax(want["ner"][0], -1)]
        grpc = GrpcClient("127.0.0.1", server.grpc_port)
        try:
            got = grpc.predict("ner", {"text": tf.constant(x["text"])})
        finally:
            grpc.close()
    assert_served_equal({k: np.asarray(v) for k, v in got.items()}, want, rtol=1e-4, atol=1e-5)
