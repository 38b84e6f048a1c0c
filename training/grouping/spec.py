"""The `grouping:` section of a study file, declared and checked: `GroupingSpec`.

```yaml
grouping:
  affinity_epochs: 3        # the affinity run: every task in one network, this many epochs
  affinity_per_epoch: 1     # sampled lookahead steps per epoch of that run
  affinity_run: null        # or an existing run dir to read the affinity from (no run trained)
  budgets: null             # numbers of networks; null: 1 .. number of tasks
  tasks: null               # the tasks grouped; null: the cells' tasks
  overlap: false            # a task may be in several groups (TAG's option)
  method: auto              # auto (exact up to 12 tasks, else beam), exact, beam
  beam_width: 64
  random: 2                 # random groupings per budget and seed (the baseline)
```

Each key is an `Arg` (`utils/arguments.py`), so a bad value reads like every other config
error: `grouping.random: -1 is out of range; valid: an integer >= 0` (a study prefixes
the file's path).

Example:
>>> from training.grouping.spec import GroupingSpec
>>> spec = GroupingSpec.read({"budgets": [2, 3], "random": 1})
>>> spec.budgets, spec.random, spec.affinity_epochs
([2, 3], 1, 3)
>>> GroupingSpec.read({"random": -1})
Traceback (most recent call last):
...
utils.arguments.ArgumentError: grouping.random: -1 is out of range; valid: an integer >= 0
"""

import dataclasses
from typing import List, Optional

from training.grouping.plan import METHODS
from utils.arguments import Arg, ArgumentError, arguments, check


@arguments(
    affinity_epochs=Arg(int, "epochs of the affinity run (every task in one network)",
                        range="[1, inf)"),
    affinity_per_epoch=Arg(int, "sampled lookahead steps per epoch of the affinity run",
                           range="[1, inf)"),
    affinity_run=Arg(str, "an existing run dir whose recorded affinity is used for every seed "
                          "(no affinity run is trained); null: train one per seed", null=True),
    budgets=Arg(list, "numbers of networks to group the tasks into; null: 1 .. number of tasks",
                item=int, range="[1, inf)", length="[1, inf)", null=True),
    tasks=Arg(list, "the tasks grouped (the cells' tasks or some of them); null: all of them",
              item=str, length="[2, inf)", null=True),
    overlap=Arg(bool, "groups may share tasks, each task answered by its best group (TAG)"),
    method=Arg(str, "the search: exact (branch-and-bound), beam, or auto (exact up to 12 "
                    "tasks)", choices=METHODS),
    beam_width=Arg(int, "partial groupings the beam search keeps", range="[1, inf)"),
    random=Arg(int, "random groupings per budget and seed, the baseline a chosen grouping "
                    "is compared with", range="[0, inf)"))
@dataclasses.dataclass
class GroupingSpec:
    """The `grouping:` keys, checked (see the module docstring)."""

    affinity_epochs: int = 3
    affinity_per_epoch: int = 1
    affinity_run: Optional[str] = None
    budgets: Optional[List[int]] = None
    tasks: Optional[List[str]] = None
    overlap: bool = False
    method: str = "auto"
    beam_width: int = 64
    random: int = 2

    @classmethod
    def read(cls, raw):
        """The spec from a study file's `grouping:` mapping (`{}` or None: the defaults);
        `ArgumentError` naming the key when a value is not valid."""
        values = check(cls.declared_arguments, raw or {}, "grouping", what="the grouping section")
        if values.get("overlap") and values.get("method") == "beam":
            raise ArgumentError("grouping.method: beam search makes partitions only; valid "
                                "with grouping.overlap: exact, auto")
        return cls(**values)

    def to_dict(self):
        return dataclasses.asdict(self)
