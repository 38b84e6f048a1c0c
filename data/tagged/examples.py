"""A sentence of a tagged file as a stored example: `tokens` and, per task, its tag ids
(`int64`, one per token; -1 where the tag is outside the task's tag set, a masked label).
The one-process build (`data.tagged.builder`) and the Beam work items (`data.tagged.beam`)
make their examples here.

Example:
>>> from data.tagged.examples import SentenceExamples, features
>>> from data.tagged.options import make_options
>>> from data.tagged.reader import TaggedFile
>>> from tasks import Task
>>> options = make_options(train="tests/data/fixtures/conll2000/train.txt",
...                        columns=["token", "pos", "chunk"], tasks={"chunk": "chunk"})
>>> example = SentenceExamples(options, [Task("chunk", "token_multiclass", ("B-NP", "I-NP"))])
>>> first = example(next(TaggedFile(options.train[0], options).sentences()))
>>> first["tokens"][:3], first["chunk"][:3].tolist()
(['The', 'company', 'said'], [0, 1, -1])
>>> sorted(features(["chunk"]).keys())
['chunk', 'tokens']
"""

import numpy as np
import tensorflow_datasets as tfds


def features(task_names):
    """The stored features: the sentence's tokens and each task's tag ids."""
    stored = {"tokens": tfds.features.Sequence(tfds.features.Text())}
    for name in task_names:
        stored[name] = tfds.features.Sequence(np.int64)
    return tfds.features.FeaturesDict(stored)


class SentenceExamples:
    """`Sentence` -> example dict, for `tasks` (their tag sets) over the columns `options`
    (a `TaggedOptions`) gives them."""

    def __init__(self, options, tasks):
        column = {t.name: t.column for t in options.task_specs}
        self.tasks = [(t.name, column[t.name], {tag: i for i, tag in enumerate(t.classes)})
                      for t in tasks]

    def __call__(self, sentence):
        example = {"tokens": list(sentence.tokens)}
        for name, column, index in self.tasks:
            example[name] = np.array([index.get(t, -1) for t in sentence.tags[column]],
                                     np.int64)
        return example
