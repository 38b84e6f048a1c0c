"""`TaggedSchema`: the analysed tagged files, as the builder, the trainer and the exporter read
them, with the report the build prints (`format()`).

Example:
>>> from data.tagged.schema import TaggedSchema
>>> from tasks import Task
>>> schema = TaggedSchema(tasks=(Task("pos", "token_multiclass", ("NN", "VB")),),
...     token_counts=[["a", 2]], rows={"train": 1, "validation": 0, "test": 0},
...     tokens={"train": 2, "validation": 0, "test": 0}, sources={"train": "t.txt"},
...     checks={"pos": {"scheme": None, "unseen": {}, "invalid": {}}})
>>> TaggedSchema.from_config(schema.to_config()) == schema
True
>>> print(schema.format().splitlines()[0])
task pos (column pos, 2 tags: NN VB)
"""

import dataclasses
from typing import Optional

from tasks import tasks_from_config, tasks_to_config

SPLITS = ("train", "validation", "test")


@dataclasses.dataclass
class TaggedSchema:
    """The analysed files (JSON round trip: `to_config`/`from_config`).

    Args:
        tasks: tuple of `Task`. One `token_multiclass` task per tag column.
        token_counts: list of [token, count]. The training tokens, most frequent first.
        rows: dict. Split -> sentences.
        tokens: dict. Split -> tokens.
        sources: dict. Split -> where its sentences come from.
        checks: dict. Task -> {"scheme", "unseen": {split: {tag: [count, where]}},
            "invalid": {split: [count, first]}} (`data/tagged/analysis.py`).
        spaced: str or None. Where the first token holding whitespace is.
        seconds: float. How long the analysis took.
    """

    tasks: tuple
    token_counts: list
    rows: dict
    tokens: dict
    sources: dict
    checks: dict
    spaced: Optional[str] = None
    seconds: float = 0.0

    def to_config(self):
        config = dataclasses.asdict(self)
        config["tasks"] = tasks_to_config(self.tasks)
        config["token_counts"] = [list(pair) for pair in self.token_counts]
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["tasks"] = tasks_from_config(config["tasks"])
        config["token_counts"] = [list(pair) for pair in config["token_counts"]]
        return cls(**config)

    def format(self):
        """The report: per task its tags, unseen tags and invalid ones; rows per split."""
        lines = []
        for task in self.tasks:
            check = self.checks[task.name]
            tags = " ".join(task.classes[:12]) + (" ..." if len(task.classes) > 12 else "")
            scheme = f", {check['scheme']}" if check["scheme"] else ""
            lines.append(f"task {task.name} (column {check.get('column', task.name)}{scheme}, "
                         f"{len(task.classes)} tags: {tags})")
            lines.extend(check_lines(check))
        splits = [s for s in SPLITS if self.rows.get(s)]
        lines.append("sentences: " + ", ".join(
            f"{s} {self.rows[s]:,} ({self.tokens[s]:,} tokens; {self.sources.get(s, '')})"
            for s in splits))
        lines.append(f"tokens: {len(self.token_counts):,} distinct in the training sentences")
        return "\n".join(lines)


def check_lines(check):
    """Report lines of one task's unseen and invalid tags (none when there are none)."""
    out = []
    for split, tags in check["unseen"].items():
        if tags:
            count = sum(n for n, _ in tags.values())
            first = ", ".join(f"{tag!r} x{n} (first {where})" for tag, (n, where) in
                              list(tags.items())[:3])
            out.append(f"  {split}: {count:,} tokens with tags outside the tag set, masked: "
                       f"{first}")
    for split, (count, first) in check["invalid"].items():
        if count:
            out.append(f"  {split}: {count:,} tags invalid under {check['scheme']}, scored as "
                       f"conlleval reads them (first {first})")
    return out
