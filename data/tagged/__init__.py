"""Tagged text in column files: CoNLL-2000/2002/2003-style and CoNLL-U (`data.name: conll`).

- `options.py`: the options, checked (`TaggedOptions`); `reader.py`: files -> sentences,
  bad lines named; `splits.py`: the seeded held-out sentences;
- `analysis.py`: one pass for tag sets, unseen and invalid tags, token counts
  (`TaggedSchema`, `schema.py`, with its report);
- `builder.py`: the TFDS builder `tagged_text` (its examples: `examples.py`); `beam.py`: the
  same build as an Apache Beam pipeline, files cut into byte ranges at blank lines
  (`ranges.py`); `dataset.py`: the registered factory `conll`.
"""
