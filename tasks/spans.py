"""Chunk spans of tag sequences (IOB1, IOB2/BIO, BIOES), scored the way conlleval scores them.

CoNLL-2000 chunking (and NER) tags each token `B-X` (begins a chunk of type X),
`I-X` (inside one) or `O` (outside); BIOES adds `E-X` (ends a chunk) and `S-X` (a chunk of
one token), and IOB1 writes `B-X` only where a chunk follows one of the same type. One
reading serves every scheme, conlleval's: a chunk is a maximal run of tokens of one type
that starts at a `B-X` or `S-X`, or at an `I-X`/`E-X` whose previous token is `O`, of
another type, or closed a chunk (`E`, `S`); it ends before the next start, `O` or change of
type (conlleval's `startOfChunk`/`endOfChunk`: a sloppy tagger's `O I-NP` still opens an
NP; conlleval itself knows `E` but not `S`, which we read as `B` and `E` at once, as
conlleval does on the same tagging converted to BIO, `tasks/tag_schemes.py`). A predicted
chunk is correct when a gold chunk has the same first token, last token and type;
precision = correct / predicted chunks, recall = correct / gold chunks, F1 their harmonic
mean (conlleval prints these times 100; we keep fractions, like accuracy).

Two implementations of the same counts: `chunk_counts` here (numpy, per sentence, the
reference, tested against hand-worked examples) and `chunk_counts_tf` in
`tasks/span_metric.py` (TensorFlow, vectorised over a padded batch, what the streaming
`SpanMetric` runs in the training graph; tested equal to the reference). Tokens outside
`valid` (padding, a missing label) count as `O` in both gold and prediction.

Example:
>>> from tasks.spans import BioScheme, chunk_counts, span_scores
>>> scheme = BioScheme(("O", "B-NP", "I-NP", "B-VP"))
>>> gold = [[1, 2, 3, 0]]        # [NP He reckons] [VP the] O
>>> pred = [[1, 2, 0, 2]]        # [NP He reckons] O [NP ...]: an I after O opens a chunk
>>> chunk_counts(scheme, gold, pred)  # (correct, predicted, gold)
(1, 2, 2)
>>> span_scores(1, 2, 2)
{'precision': 0.5, 'recall': 0.5, 'f1': 0.5}
"""

import re

import numpy as np

_TAG = re.compile(r"^([BIES])-(.+)$")


class BioScheme:
    """The span reading of a tag set (IOB1, IOB2/BIO or BIOES): per class id, whether it
    begins a chunk (`B`, `S`), continues one (`I`, `E`), ends one (`E`, `S`), and the
    chunk type's id (-1 for `O`).

    Args:
        classes: sequence of str. Tag names, `O` or `B-<type>` / `I-<type>` / `E-<type>` /
            `S-<type>`.

    Raises ValueError (naming the tag) when a class is none of these; `is_bio(classes)`
    asks without raising.
    """

    def __init__(self, classes):
        self.classes = tuple(classes)
        types, begins, insides, ends, type_ids = [], [], [], [], []
        for tag in self.classes:
            match = _TAG.match(tag)
            if tag == "O":
                begins.append(False), insides.append(False), ends.append(False)
                type_ids.append(-1)
                continue
            if match is None:
                raise ValueError(f"tag {tag!r} is not BIO (O, B-<type>, I-<type>, or BIOES's "
                                 "E-<type>, S-<type>)")
            if match.group(2) not in types:
                types.append(match.group(2))
            begins.append(match.group(1) in "BS")
            insides.append(match.group(1) in "IE")
            ends.append(match.group(1) in "ES")
            type_ids.append(types.index(match.group(2)))
        self.types = tuple(types)
        self.begins = np.array(begins, bool)
        self.insides = np.array(insides, bool)
        self.ends = np.array(ends, bool)
        self.type_ids = np.array(type_ids, np.int64)

    @staticmethod
    def is_bio(classes):
        """True when every class is `O` or `<B|I|E|S>-X` and at least one is not `O` (an
        IOB1 tag set may hold no `B-X` at all)."""
        return (all(c == "O" or _TAG.match(c) for c in classes)
                and any(c != "O" for c in classes))


def chunks(scheme, tags, valid=None):
    """The set of (first token, last token, type id) chunks of one tag-id sequence."""
    tags = np.asarray(tags, np.int64)
    valid = np.ones(len(tags), bool) if valid is None else np.asarray(valid, bool)
    out, start, kind, closed = set(), None, -1, False
    for i, (tag, ok) in enumerate(zip(tags, valid)):
        begin = ok and bool(scheme.begins[tag])
        inside = ok and (begin or bool(scheme.insides[tag]))
        this = int(scheme.type_ids[tag]) if inside else -1
        # conlleval's endOfChunk / startOfChunk, with E and S closing the chunk they end.
        if start is not None and (not inside or begin or this != kind or closed):
            out.add((start, i - 1, kind))
            start = None
        if inside and start is None:
            start, kind = i, this
        closed = inside and bool(scheme.ends[tag])
    if start is not None:
        out.add((start, len(tags) - 1, kind))
    return out


def chunk_counts(scheme, gold, pred, valid=None):
    """(correct, predicted, gold) chunk counts over sentences: `gold`, `pred` are
    [sentences, tokens] tag ids (ragged lists or a padded array with `valid`)."""
    correct = predicted = found = 0
    for i, (g, p) in enumerate(zip(gold, pred)):
        v = None if valid is None else valid[i]
        gold_chunks, pred_chunks = chunks(scheme, g, v), chunks(scheme, p, v)
        correct += len(gold_chunks & pred_chunks)
        predicted += len(pred_chunks)
        found += len(gold_chunks)
    return correct, predicted, found


def span_scores(correct, predicted, gold):
    """{precision, recall, f1} from chunk counts (0 where undefined, as conlleval)."""
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1)}
