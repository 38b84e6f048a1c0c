"""`conll`: tagged text in column files (CoNLL-2000/2002/2003, CoNLL-U, ...) as a multi-task
dataset: a `text` input and one `token_multiclass` task per tag column.

    data:
      name: conll
      options:
        train: data/eng.train            # a path, a glob or a list; .gz/.bz2/.xz/.zst read too
        validation: data/eng.testa
        test: data/eng.testb
        columns: [token, pos, chunk, ner]
        tasks: {pos: pos, ner: {column: ner, scheme: iob1}}

CoNLL-U files name their columns themselves (`format: conllu`; `tasks: {upos: UPOS, xpos:
XPOS, deprel: DEPREL}`). Every option is in `python train.py --list conll` and
docs/guide/text.md. The analysis (`data.tagged.analysis`) is cached beside the built data
as `tagged_schema.json`, once per dataset version; the builder is `data.tagged.builder`.

Example:
>>> import data
>>> spec = data.get_dataset("conll", train="tests/data/fixtures/conll2000/train.txt",
...                         test="tests/data/fixtures/conll2000/test.txt",
...                         columns=["token", "pos", "chunk"], tasks={"pos": "pos", "chunk": "chunk"},
...                         min_count=1)
>>> [t.name for t in spec.tasks], spec.inputs[0].kind, sorted(spec.splits)
(['pos', 'chunk'], 'text', ['test', 'train', 'validation'])
"""

import os
from typing import Optional

from data.dataset_spec import DatasetSpec
from data.schema_cache import load_or_compute
from data.tagged.analysis import analyze
from data.tagged.builder import TaggedConfig
from data.tagged.options import TaggedError, make_options
from data.tagged.schema import TaggedSchema
from inputs import InputSpec
from data.options import CHAR_FEATURES, EMBEDDING_DIM, LOWERCASE, MIN_COUNT, TEXT_INPUT
from utils.arguments import Arg, arguments

SCHEMA_FILE = "tagged_schema.json"
_SCHEMAS = {}  # fingerprint -> TaggedSchema: one analysis per process and dataset version


def make_config(options, data_dir=None):
    """The builder config of `options`: named after the first train file and the options'
    fingerprint; its schema read from the cache beside the built data when there."""
    from data.csv_options import identifier
    from data.pipeline import default_data_dir

    fingerprint = options.fingerprint()
    name = f"{identifier(os.path.basename(options.train[0]).split('.')[0])}-{fingerprint}"
    if fingerprint not in _SCHEMAS:
        path = os.path.join(data_dir or default_data_dir(), "tagged_text", name, SCHEMA_FILE)
        _SCHEMAS[fingerprint] = load_or_compute(path, fingerprint, lambda: analyze(options),
                                                TaggedSchema.from_config,
                                                extra={"options": options.to_config()})
    return TaggedConfig(name=name, options=options, schema=_SCHEMAS[fingerprint],
                        description=f"tagged text from {', '.join(options.train[:3])}")


def vocabulary(token_counts, min_count=1, lowercase=False):
    """Training tokens seen at least `min_count` times (lower-cased first when asked), most
    frequent first, ties alphabetical.

    Example:
    >>> vocabulary([["The", 2], ["the", 1], ["a", 1]], min_count=2, lowercase=True)
    ('the',)
    """
    counts = {}
    for token, count in token_counts:
        key = token.lower() if lowercase else token
        counts[key] = counts.get(key, 0) + int(count)
    return tuple(sorted((t for t, c in counts.items() if c >= min_count),
                        key=lambda t: (-counts[t], t)))


def _join_tokens(example):
    """The sentence of a stored example, its tokens joined by single spaces (`input: text`)."""
    import tensorflow as tf

    return {**example, "text": tf.strings.reduce_join(example["tokens"], separator=" ")}


def text_input(schema, input, min_count, lowercase, embedding_dim, char_features):
    """The `text` input of the corpus: a sentence (`text`) or its tokens (`tokens`)."""
    if input == "text" and schema.spaced:
        raise TaggedError(f"{schema.spaced}: a token holds whitespace, and a sentence input "
                          "(data.options.input: text) is split on it; valid: input: tokens")
    vocab = vocabulary(schema.token_counts, min_count, lowercase)
    if not vocab:
        raise TaggedError(f"data.options.min_count: no training token is seen {min_count} "
                          "times; valid: a smaller count")
    return InputSpec(input, "text", shape=() if input == "text" else (None,), dtype="string",
                     vocabulary=vocab, lowercase=lowercase, embedding_dim=embedding_dim,
                     char_features=char_features)


@arguments(train=Arg((str, list), "training file(s): a path, a glob, or a list of them", item=str),
           tasks=Arg(dict, "task -> its tag column, or {column, scheme, classes}"),
           columns=Arg(list, "the columns' names in order (format conll)", item=str, null=True),
           token=Arg(str, "the token column; null: the first (FORM for conllu)", null=True),
           validation=Arg((str, list), "validation file(s); null: split from train", item=str,
                          null=True),
           test=Arg((str, list), "test file(s); null: split from train", item=str, null=True),
           format=Arg(str, "conll (name the columns) or conllu (its ten columns)",
                      choices=("conll", "conllu")),
           separator=Arg(str, "between columns; null: whitespace (conll), tab (conllu)",
                         choices=("whitespace", "tab", "space"), null=True),
           encoding=Arg(str, "the files' text encoding"),
           comment_prefix=Arg(str, "lines starting with it are skipped; null: # for conllu",
                              null=True),
           docstart=Arg(bool, "skip -DOCSTART- lines (document breaks)"),
           split=Arg(dict, "fractions of the training sentences held out when a split has no "
                     "files", item=float, range="[0, 1)", null=True),
           seed=Arg(int, "seeds the held-out split", range="[0, 2147483647]"),
           input=TEXT_INPUT, min_count=MIN_COUNT, lowercase=LOWERCASE,
           embedding_dim=EMBEDDING_DIM, char_features=CHAR_FEATURES,
           data_dir=Arg(str, "where the analysis is cached; give data.data_dir's", null=True))
def conll(train, tasks, columns=None, token=None, validation=None, test=None,
          format="conll", separator=None, encoding="utf-8", comment_prefix=None,
          docstart=True, split=None, seed=0, input="text", min_count=2, lowercase=False,
          embedding_dim=64, char_features=0, data_dir: Optional[str] = None):
    """Spec of tagged column files; see the module docstring and `data.tagged.options`."""
    options = make_options(train=train, tasks=tasks, columns=columns, token=token,
                           validation=validation, test=test, format=format,
                           separator=separator, encoding=encoding,
                           comment_prefix=comment_prefix, docstart=docstart, split=split,
                           seed=seed)
    config = make_config(options, data_dir)
    schema = config.schema
    if not schema.rows["validation"]:
        raise TaggedError("data.options.split: no validation sentences; valid: validation "
                          "files (data.options.validation) or a fraction, e.g. {validation: 0.1}")
    spec = text_input(schema, input, min_count, lowercase, embedding_dim, char_features)
    return DatasetSpec(
        name="conll", tfds_name="tagged_text", tasks=schema.tasks, inputs=(spec,),
        splits={s: s for s in ("train", "validation", "test") if schema.rows[s]},
        preprocess=_join_tokens if input == "text" else None,
        builder_kwargs={"config": config},
        description=f"tagged text from {', '.join(options.train[:3])}")
