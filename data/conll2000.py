"""`conll2000`: CoNLL-2000 chunking, part-of-speech tags and BIO chunks per token.

The CoNLL-2000 shared task data (Tjong Kim Sang & Buchholz, 2000): Wall Street
Journal sections 15-18 as training data (8,936 sentences, 211,727 tokens) and
section 20 as test data (2,012 sentences, 47,377 tokens), one token per line as
`token POS chunk` (`He PRP B-NP`), a blank line between sentences. Tasks, both
`token_multiclass`:

- `pos`: the Penn Treebank part-of-speech tag of each token (44 tags);
- `chunk`: its chunk tag, `B-X` / `I-X` for the 11 chunk types X, or `O` (23 tags),
  scored by chunk F1 as conlleval computes it (`tasks/spans.py`).

The input is the raw sentence (`text`, tokens joined by single spaces; the model
splits it again, `inputs/text.py`), or with `input: tokens` the token
list. The vocabulary is the training sentences' tokens seen at least `min_count`
times; rarer ones train the out-of-vocabulary embedding that unseen test words get.
The corpus has no validation split: the last `validation_fraction` of the training
sentences (in file order, the end of section 18) is held out for it.

Where the data comes from (`data.options.path`): a directory holding `train.txt` and
`test.txt` (or `train.txt.gz`, `test.txt.gz`, as the shared task distributes them,
or a `conll2000/` folder with them), or the zip NLTK distributes (`conll2000.zip`,
members `conll2000/train.txt`, `conll2000/test.txt`). Without a path the two files
are downloaded from the shared task's site (needs internet access) into
`<data_dir>/downloads/conll2000`. A malformed line fails naming the file and line.

Example (the test fixture, a few hand-tagged sentences in the corpus format):
>>> import data
>>> from data.pipeline import load_split
>>> spec = data.get_dataset("conll2000", path="tests/data/fixtures/conll2000")
>>> [t.name for t in spec.tasks], spec.inputs[0].kind
(['pos', 'chunk'], 'text')
>>> inputs, labels, masks = next(iter(load_split(spec, "test", spec.tasks, "tfds_data", 2)))
>>> inputs["text"].numpy()[0].decode()
'He reckons the current account deficit will narrow .'
>>> [spec.task("chunk").classes[i] for i in labels["chunk"].numpy()[0]][:4]
['B-NP', 'B-VP', 'B-NP', 'I-NP']
"""

import collections
import dataclasses
import gzip
import hashlib
import os
import zipfile
from typing import Optional

import tensorflow_datasets as tfds

from data.offline_builder import OfflineBuilder
from data.dataset_spec import DatasetSpec
from inputs import InputSpec
from tasks import Task, tasks_to_config
from data.options import CHAR_FEATURES, EMBEDDING_DIM, LOWERCASE, MIN_COUNT, TEXT_INPUT
from utils.arguments import Arg, arguments


# Every tag of the corpus (train and test), the PTB tags in sorted order.
POS_TAGS = ("#", "$", "''", "(", ")", ",", ".", ":", "CC", "CD", "DT", "EX", "FW", "IN", "JJ",
            "JJR", "JJS", "MD", "NN", "NNP", "NNPS", "NNS", "PDT", "POS", "PRP", "PRP$", "RB",
            "RBR", "RBS", "RP", "SYM", "TO", "UH", "VB", "VBD", "VBG", "VBN", "VBP", "VBZ", "WDT",
            "WP", "WP$", "WRB", "``")
CHUNK_TYPES = ("ADJP", "ADVP", "CONJP", "INTJ", "LST", "NP", "PP", "PRT", "SBAR", "UCP", "VP")
CHUNK_TAGS = ("O",) + tuple(f"{p}-{t}" for t in CHUNK_TYPES for p in ("B", "I"))
TASKS = (Task("pos", "token_multiclass", POS_TAGS),
         Task("chunk", "token_multiclass", CHUNK_TAGS))
INPUTS = ("text", "tokens")
SPLIT_FILES = ("train", "test")
# The shared task's own copies (gzip); NLTK's zip holds the same two files.
URLS = {"train": "https://www.clips.uantwerpen.be/conll2000/chunking/train.txt.gz",
        "test": "https://www.clips.uantwerpen.be/conll2000/chunking/test.txt.gz"}


class CorpusError(ValueError):
    """A corpus file that cannot be read; the message names the file (and line)."""


Sentence = collections.namedtuple("Sentence", "tokens pos chunk line")


def parse_sentences(lines, where):
    """Sentences of CoNLL-2000 `token POS chunk` lines (a blank line ends each).

    Args:
        lines: iterable of str (one per line, newline optional).
        where: str. The file's name, for errors ("train.txt").

    Raises CorpusError naming `where` and the line for a line without three fields, an
    unknown POS or chunk tag.

    Example:
    >>> [s.tokens for s in parse_sentences(["He PRP B-NP", "ran VBD B-VP", ""], "x.txt")]
    [('He', 'ran')]
    >>> list(parse_sentences(["He PRP"], "x.txt"))
    Traceback (most recent call last):
    ...
    data.conll2000.CorpusError: x.txt line 1: expected 'token POS chunk' (3 fields separated by spaces); got 2: 'He PRP'
    """
    pos_tags, chunk_tags = set(POS_TAGS), set(CHUNK_TAGS)
    tokens, pos, chunk, first = [], [], [], None
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if not fields:
            if tokens:
                yield Sentence(tuple(tokens), tuple(pos), tuple(chunk), first)
            tokens, pos, chunk, first = [], [], [], None
            continue
        if len(fields) != 3:
            raise CorpusError(f"{where} line {number}: expected 'token POS chunk' (3 fields "
                              f"separated by spaces); got {len(fields)}: {line.strip()[:80]!r}")
        if fields[1] not in pos_tags:
            raise CorpusError(f"{where} line {number}: unknown POS tag {fields[1]!r}; known: "
                              f"{' '.join(POS_TAGS)}")
        if fields[2] not in chunk_tags:
            raise CorpusError(f"{where} line {number}: unknown chunk tag {fields[2]!r}; known: "
                              f"{' '.join(CHUNK_TAGS)}")
        first = first or number
        tokens.append(fields[0]), pos.append(fields[1]), chunk.append(fields[2])
    if tokens:
        yield Sentence(tuple(tokens), tuple(pos), tuple(chunk), first)


@dataclasses.dataclass(frozen=True)
class CorpusFiles:
    """Where the train and test files are, and how to read them.

    Args:
        source: str. The directory, zip or URL they come from (shown in errors, metadata).
        members: tuple of (split, name in errors, file path, zip member or None).
    """

    source: str
    members: tuple

    def read(self, split):
        """The file of `split` as text lines (UTF-8; a bad byte names the file)."""
        _, name, path, member = next(m for m in self.members if m[0] == split)
        if member is not None:
            with zipfile.ZipFile(path) as z:
                raw = z.read(member)
        else:
            with open(path, "rb") as f:
                raw = f.read()
        if name.endswith(".gz"):
            raw = gzip.decompress(raw)
        try:
            return raw.decode("utf-8").splitlines()
        except UnicodeDecodeError as e:
            line = raw[:e.start].count(b"\n") + 1
            raise CorpusError(f"{name} line {line}: not UTF-8 ({e.reason})") from None

    def name(self, split):
        return next(m[1] for m in self.members if m[0] == split)

    def sentences(self, split):
        return list(parse_sentences(self.read(split), self.name(split)))

    def fingerprint(self):
        digest = hashlib.sha1()
        for split in SPLIT_FILES:
            digest.update("\n".join(self.read(split)).encode())
        return digest.hexdigest()[:10]


def find_files(path):
    """`CorpusFiles` of a directory or an NLTK-style zip; CorpusError naming
    `data.options.path` when neither holds train and test files."""
    where = f"data.options.path: {path!r}"
    if not os.path.exists(path):
        raise CorpusError(f"{where} does not exist (give the directory holding train.txt and "
                          "test.txt, or conll2000.zip)")
    members = []
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
        for split in SPLIT_FILES:
            found = [n for n in names if os.path.basename(n) in (f"{split}.txt", f"{split}.txt.gz")]
            if found:
                members.append((split, f"{os.path.basename(path)}:{found[0]}", path, found[0]))
    elif os.path.isdir(path):
        for split in SPLIT_FILES:
            for folder in (path, os.path.join(path, "conll2000")):
                found = [os.path.join(folder, n) for n in (f"{split}.txt", f"{split}.txt.gz")
                         if os.path.isfile(os.path.join(folder, n))]
                if found:
                    members.append((split, found[0], found[0], None))
                    break
    else:
        raise CorpusError(f"{where} is neither a directory nor a zip file")
    missing = [s for s in SPLIT_FILES if s not in [m[0] for m in members]]
    if missing:
        raise CorpusError(f"{where} holds no {' or '.join(f'{s}.txt' for s in missing)} (looked "
                          "for train.txt/test.txt, their .gz, also under conll2000/)")
    return CorpusFiles(source=os.path.abspath(path), members=tuple(members))


def download_files(data_dir):
    """Downloads the shared task's two files (needs internet access); their `CorpusFiles`."""
    folder = os.path.join(data_dir, "downloads", "conll2000")
    manager = tfds.download.DownloadManager(download_dir=folder)
    try:
        paths = manager.download(URLS)
    except Exception as e:  # noqa: BLE001 - any network failure gets the same advice
        raise CorpusError(f"data.options.path is not set and downloading {URLS['train']} "
                          f"failed ({type(e).__name__}: {str(e)[:200]}); give the local copy: "
                          "data.options.path: <dir with train.txt, test.txt> or conll2000.zip"
                          ) from None
    return CorpusFiles(source=URLS["train"], members=tuple(
        (split, f"{split}.txt.gz", os.fspath(paths[split]), None) for split in SPLIT_FILES))


def vocabulary(sentences, min_count=1, lowercase=False):
    """Tokens seen at least `min_count` times, most frequent first (ties alphabetical).

    Example:
    >>> vocabulary([Sentence(("a", "b", "a"), (), (), 1)], min_count=2)
    ('a',)
    """
    counts = collections.Counter(t.lower() if lowercase else t for s in sentences for t in s.tokens)
    return tuple(sorted((t for t, c in counts.items() if c >= min_count),
                        key=lambda t: (-counts[t], t)))


class Conll2000Config(tfds.core.BuilderConfig):
    """A `conll2000` configuration: which files it is built from."""

    def __init__(self, *, files, **kwargs):
        super().__init__(**kwargs)
        self.files = files


class Conll2000(OfflineBuilder):
    """CoNLL-2000 chunking: tokens, POS tags, chunk tags (see `data.conll2000`)."""

    VERSION = tfds.core.Version("1.0.0")
    # Configs are made from options (the files' fingerprint names them), never predefined.
    BUILDER_CONFIGS = []

    def _info(self):
        if self.builder_config is None:
            raise CorpusError("The conll2000 builder needs a config made from options: "
                              "data.get_dataset('conll2000', path=...)")
        features = {"tokens": tfds.features.Sequence(tfds.features.Text()),
                    "pos": tfds.features.Sequence(tfds.features.ClassLabel(names=POS_TAGS)),
                    "chunk": tfds.features.Sequence(tfds.features.ClassLabel(names=CHUNK_TAGS))}
        return tfds.core.DatasetInfo(
            builder=self, description=__doc__, features=tfds.features.FeaturesDict(features),
            # File order: the validation split is the end of the training file.
            disable_shuffling=True, homepage="https://www.clips.uantwerpen.be/conll2000/chunking/",
            metadata=tfds.core.MetadataDict(tasks=tasks_to_config(TASKS),
                                            source=self.builder_config.files.source))

    def _split_generators(self, dl_manager):
        return {split: self._generate_examples(split) for split in SPLIT_FILES}

    def _generate_examples(self, split):
        for i, s in enumerate(self.builder_config.files.sentences(split)):
            yield i, {"tokens": list(s.tokens), "pos": list(s.pos), "chunk": list(s.chunk)}


_CORPORA = {}  # (source, fingerprint) -> training sentences: one read per process


def _join_tokens(example):
    import tensorflow as tf

    return {"text": tf.strings.reduce_join(example["tokens"], separator=" "),
            "pos": example["pos"], "chunk": example["chunk"]}


@arguments(path=Arg(str, "a directory or the NLTK zip; null: download", null=True),
           input=TEXT_INPUT, min_count=MIN_COUNT, lowercase=LOWERCASE,
           embedding_dim=EMBEDDING_DIM, char_features=CHAR_FEATURES,
           validation_fraction=Arg(float, "share of the training sentences held out",
                                   range="(0, 1)"),
           data_dir=Arg(str, "where the prepared corpus is kept; null: the TFDS data dir",
                        null=True))
def conll2000(path: Optional[str] = None, input: str = "text", min_count: int = 2,
              lowercase: bool = False, embedding_dim: int = 64, char_features: int = 0,
              validation_fraction: float = 0.1, data_dir: Optional[str] = None):
    """Spec of CoNLL-2000 read from `path` (a directory or the NLTK zip; None downloads).

    Args:
        path: str or None. See the module docstring.
        input: str. `text` (the sentence, split inside the model) or `tokens`.
        min_count: int. Training occurrences a token needs to be in the vocabulary.
        lowercase: bool. Lower-case tokens (inside the model) before the lookup.
        embedding_dim: int. Width of the token embedding.
        char_features: int. Width of a per-token character CNN feature (0: words only).
        validation_fraction: float. Share of the training sentences held out (the last ones).
        data_dir: str or None. Where a download goes (default `$TFDS_DATA_DIR` or tfds_data).
    """
    if input not in INPUTS:
        raise ValueError(f"data.options.input: {input!r} is not one of {', '.join(INPUTS)}")
    if not isinstance(min_count, int) or min_count < 1:
        raise ValueError(f"data.options.min_count: must be an integer >= 1; got {min_count!r}")
    if not 0.0 < float(validation_fraction) < 1.0:
        raise ValueError("data.options.validation_fraction: must be in (0, 1); got "
                         f"{validation_fraction!r}")
    if path is None:
        from data.pipeline import default_data_dir
        files = download_files(data_dir or default_data_dir())
    else:
        files = find_files(os.fspath(path))
    fingerprint = files.fingerprint()
    key = (files.source, fingerprint)
    if key not in _CORPORA:
        _CORPORA[key] = files.sentences("train")
    sentences = _CORPORA[key]
    num_train = len(sentences) - int(round(len(sentences) * float(validation_fraction)))
    if num_train < 1 or num_train == len(sentences):
        raise CorpusError(f"{files.name('train')}: {len(sentences)} sentences cannot be split "
                          f"with validation_fraction={validation_fraction}")
    vocab = vocabulary(sentences[:num_train], min_count, lowercase)
    if not vocab:
        raise ValueError(f"data.options.min_count: no training token is seen {min_count} times")
    spec = InputSpec(input, "text", shape=() if input == "text" else (None,), dtype="string",
                     vocabulary=vocab, lowercase=lowercase, embedding_dim=embedding_dim,
                     char_features=char_features)
    config = Conll2000Config(name=f"conll2000-{fingerprint}", files=files,
                             description=f"CoNLL-2000 from {files.source}")
    return DatasetSpec(
        name="conll2000", tfds_name="conll2000", tasks=TASKS, inputs=(spec,),
        splits={"train": f"train[:{num_train}]", "validation": f"train[{num_train}:]",
                "test": "test"},
        preprocess=_join_tokens if input == "text" else None, builder_kwargs={"config": config},
        description="CoNLL-2000 chunking: POS tags and BIO chunks per token (WSJ).")

