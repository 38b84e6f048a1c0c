"""The conll2000 builder on the fixture (same format as the corpus): reading a directory,
the NLTK zip or the shared task's .gz files, bad lines naming file and line, splits,
vocabulary, both input forms, and the batches the pipeline makes."""

import gzip
import os
import shutil
import zipfile

import numpy as np
import pytest

import data
from data import conll2000
from data.conll2000 import CorpusError, find_files, parse_sentences
from data.pipeline import load_split
from tests.data.helpers import CONLL2000 as FIXTURE


def fixture_sentences(split):
    return list(parse_sentences(open(os.path.join(FIXTURE, f"{split}.txt")).read().splitlines(),
                                f"{split}.txt"))


def test_parse_errors_name_the_file_and_line():
    with pytest.raises(CorpusError, match=r"train.txt line 3: expected 'token POS chunk' \(3 "
                                          r"fields separated by spaces\); got 4: 'a b c d'"):
        list(parse_sentences(["He PRP B-NP", "", "a b c d"], "train.txt"))
    with pytest.raises(CorpusError, match="test.txt line 2: unknown POS tag 'XX'; known: # \\$"):
        list(parse_sentences(["He PRP B-NP", "ran XX B-VP"], "test.txt"))
    with pytest.raises(CorpusError, match="line 1: unknown chunk tag 'B-XP'"):
        list(parse_sentences(["He PRP B-XP"], "t.txt"))
    sentences = list(parse_sentences(["", "He PRP B-NP", "", "", "ran VBD B-VP"], "t.txt"))
    assert [(s.tokens, s.line) for s in sentences] == [(("He",), 2), (("ran",), 5)]


def test_a_bad_line_in_a_file_names_it(tmp_path):
    shutil.copy(os.path.join(FIXTURE, "test.txt"), tmp_path / "test.txt")
    lines = open(os.path.join(FIXTURE, "train.txt")).read().splitlines()
    lines[4] = "profit NN"
    (tmp_path / "train.txt").write_text("\n".join(lines) + "\n")
    with pytest.raises(CorpusError, match=f"{tmp_path}/train.txt line 5: expected"):
        data.get_dataset("conll2000", path=str(tmp_path))


def test_a_directory_the_nltk_zip_and_gz_files_read_the_same(tmp_path):
    want = {s: fixture_sentences(s) for s in ("train", "test")}
    archive = tmp_path / "conll2000.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for split in ("train", "test"):
            z.write(os.path.join(FIXTURE, f"{split}.txt"), f"conll2000/{split}.txt")
    gz = tmp_path / "gz"
    gz.mkdir()
    for split in ("train", "test"):
        with open(os.path.join(FIXTURE, f"{split}.txt"), "rb") as f:
            (gz / f"{split}.txt.gz").write_bytes(gzip.compress(f.read()))
    sources = [find_files(FIXTURE), find_files(str(archive)), find_files(str(gz))]
    for files in sources:
        assert {s: files.sentences(s) for s in ("train", "test")} == want
    assert len({files.fingerprint() for files in sources}) == 1


def test_missing_files_and_paths_name_the_option(tmp_path):
    with pytest.raises(CorpusError, match="data.options.path: .* does not exist"):
        find_files(str(tmp_path / "nowhere"))
    shutil.copy(os.path.join(FIXTURE, "train.txt"), tmp_path / "train.txt")
    with pytest.raises(CorpusError, match="holds no test.txt"):
        find_files(str(tmp_path))


def test_without_a_path_it_downloads_and_says_what_to_do_offline(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds

    def offline(self, urls):
        raise OSError("network unreachable")
    monkeypatch.setattr(tfds.download.DownloadManager, "download", offline)
    with pytest.raises(CorpusError, match="downloading https://www.clips.uantwerpen.be/conll2000/"
                                          "chunking/train.txt.gz failed .*network unreachable"):
        data.get_dataset("conll2000", data_dir=str(tmp_path))


def test_options_are_checked():
    with pytest.raises(ValueError, match="data.options.input: unknown value 'words'; valid: text, tokens"):
        data.get_dataset("conll2000", path=FIXTURE, input="words")
    with pytest.raises(ValueError, match=r"data.options.validation_fraction: 1.5 is out of range; valid: a number in \(0, 1\)"):
        data.get_dataset("conll2000", path=FIXTURE, validation_fraction=1.5)
    with pytest.raises(ValueError, match="data.options.vocab: unknown argument of dataset 'conll2000'"):
        data.get_dataset("conll2000", path=FIXTURE, vocab=3)


def test_vocabulary_comes_from_the_training_sentences():
    spec = data.get_dataset("conll2000", path=FIXTURE, min_count=2)
    vocab = spec.inputs[0].vocabulary
    # 10 training sentences, the last (10%) held out for validation.
    assert spec.splits == {"train": "train[:9]", "validation": "train[9:]", "test": "test"}
    counts = {}
    for s in fixture_sentences("train")[:9]:
        for t in s.tokens:
            counts[t] = counts.get(t, 0) + 1
    assert set(vocab) == {t for t, c in counts.items() if c >= 2}
    assert vocab[:2] == (".", "the")  # most frequent first: "." ends all 9 sentences
    assert "reckons" not in vocab  # a test-only word: out of vocabulary
    lower = data.get_dataset("conll2000", path=FIXTURE, min_count=1, lowercase=True)
    assert "The" not in lower.inputs[0].vocabulary and lower.inputs[0].lowercase


@pytest.mark.parametrize("input_form", ["text", "tokens"])
def test_built_splits_batch_as_padded_tokens_and_tags(data_dir, input_form):
    spec = data.get_dataset("conll2000", path=FIXTURE, input=input_form)
    sizes = {split: sum(int(b[0][input_form].shape[0]) for b in
                        load_split(spec, split, spec.tasks, data_dir, batch_size=4))
             for split in ("train", "validation", "test")}
    assert sizes == {"train": 9, "validation": 1, "test": 3}
    inputs, labels, masks = next(iter(load_split(spec, "test", spec.tasks, data_dir, 3)))
    gold = fixture_sentences("test")
    longest = max(len(s.tokens) for s in gold)
    assert labels["pos"].shape == masks["chunk"].shape == (3, longest)
    for i, sentence in enumerate(gold):
        n = len(sentence.tokens)
        if input_form == "text":
            assert inputs["text"][i].numpy().decode() == " ".join(sentence.tokens)
        else:
            assert [t.decode() for t in inputs["tokens"][i].numpy()[:n]] == list(sentence.tokens)
        assert [conll2000.CHUNK_TAGS[j] for j in labels["chunk"][i, :n]] == list(sentence.chunk)
        assert [conll2000.POS_TAGS[j] for j in labels["pos"][i, :n]] == list(sentence.pos)
        np.testing.assert_array_equal(masks["pos"][i], np.arange(longest) < n)
