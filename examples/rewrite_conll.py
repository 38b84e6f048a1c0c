"""Rewrites a CoNLL column file in another tagging scheme, column order or encoding.

Used to make a stand-in for a corpus in another layout from CoNLL-2000 (docs/guide/text.md):
the chunk tags in BIOES, the columns reordered, the file in Latin-1. Reads and writes a
blank line between sentences, one token per line; `-DOCSTART-` lines are kept.

Run:  unzip -o ../shared/data/conll2000.zip -d /tmp/conll2000
      python examples/rewrite_conll.py /tmp/conll2000/conll2000/train.txt /tmp/c2k/train.txt \\
          --columns token,pos,chunk --order chunk,token,pos --scheme chunk:iob2:bioes \\
          --encoding latin-1
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tasks.tag_schemes import convert  # noqa: E402


def sentences(path, encoding):
    """Yields lists of rows (lists of fields); `-DOCSTART-` comes as a sentence of its own."""
    rows = []
    with open(path, encoding=encoding) as f:
        for line in f:
            fields = line.split()
            if not fields:
                if rows:
                    yield rows
                rows = []
                continue
            rows.append(fields)
    if rows:
        yield rows


def rewrite(rows, columns, order, schemes):
    """One sentence's rows with tag columns converted and the columns reordered."""
    if rows[0][0] == "-DOCSTART-":
        return rows
    by_name = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    for column, (source, target) in schemes.items():
        by_name[column] = convert(by_name[column], source, target)
    return [[by_name[c][i] for c in order] for i in range(len(rows))]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("source")
    p.add_argument("target")
    p.add_argument("--columns", required=True, help="the source's columns, comma-separated")
    p.add_argument("--order", help="the target's column order (default: the source's)")
    p.add_argument("--scheme", action="append", default=[],
                   help="COLUMN:FROM:TO, e.g. chunk:iob2:bioes (iob1, iob2, bioes)")
    p.add_argument("--encoding", default="utf-8", help="the target's encoding")
    p.add_argument("--source_encoding", default="utf-8")
    args = p.parse_args(argv)
    columns = args.columns.split(",")
    order = args.order.split(",") if args.order else columns
    schemes = {}
    for item in args.scheme:
        column, source, target = item.split(":")
        schemes[column] = (source, target)
    os.makedirs(os.path.dirname(os.path.abspath(args.target)), exist_ok=True)
    count = 0
    with open(args.target, "w", encoding=args.encoding, errors="strict") as out:
        for rows in sentences(args.source, args.source_encoding):
            for fields in rewrite(rows, columns, order, schemes):
                out.write(" ".join(fields) + "\n")
            out.write("\n")
            count += 1
    print(f"{args.target}: {count:,} sentences ({args.encoding}; columns {' '.join(order)})")


if __name__ == "__main__":
    main()
