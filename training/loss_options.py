"""`train.loss_options`: per task, the options of its kind's loss, checked twice.

`train.loss_options.<task>.<option>` is keyed by task name, and a task's kind (which
says which options its loss takes) is known only once the dataset is: most datasets
learn their tasks from their files or options. So the key is checked in two steps,
each failing with `<full key>: <what is wrong>; valid: <...>`:

- at load (`check_at_load`, from `load_config`, before TensorFlow is imported): each
  task's entry is a mapping (or null: none), and each option is one some task kind
  declares, with a value that kind's declaration accepts (type, range, nan/inf). The
  kinds' declarations are imported: `tasks/` imports no TensorFlow.
- with the tasks (`resolve`, from `training.setup.TrainSetup`, before any data or model
  work): each task named is one of the tasks, and its options are ones its own kind
  takes, with one value per class where a list is given (`TaskKind.check_loss_options`).

Example:
>>> from tasks import Task
>>> from training.loss_options import check_at_load, resolve
>>> check_at_load({"a": {"focal_gamma": "2"}})
{'a': {'focal_gamma': 2.0}}
>>> check_at_load({"a": {"gamma": 2}})
Traceback (most recent call last):
...
utils.arguments.ArgumentError: train.loss_options.a.gamma: unknown loss option; valid: class_weights (multiclass, token_multiclass), focal_gamma (binary, multiclass, multilabel, token_multiclass), pos_weight (binary, multilabel)
>>> resolve({"b": {"pos_weight": 2.0}}, [Task("a", "binary")])
Traceback (most recent call last):
...
utils.arguments.ArgumentError: train.loss_options.b: unknown task; valid: a
"""

from utils.arguments import ArgumentError

KEY = "train.loss_options"


def kinds_by_option():
    """{option: {kind: its Arg}} over every registered task kind."""
    from tasks.registry import TASK_KINDS
    out = {}
    for kind, cls in TASK_KINDS.items():
        for option, arg in cls.loss_options.items():
            out.setdefault(option, {})[kind] = arg
    return dict(sorted(out.items()))


def _valid_options(known):
    return ", ".join(f"{option} ({', '.join(sorted(kinds))})" for option, kinds in known.items())


def check_at_load(options):
    """`options` (the `train.loss_options` mapping) checked without the tasks; returns them
    normalised ({task: {option: value}}); ArgumentError naming the key."""
    known = kinds_by_option()
    out = {}
    for task, given in (options or {}).items():
        where = f"{KEY}.{task}"
        if not isinstance(task, str) or not task.isidentifier():
            raise ArgumentError(f"{where}: {task!r} is not a task name; valid: a task's name "
                                "(an identifier, e.g. same_digit)")
        if given is None:  # null: the task's loss takes its defaults
            out[task] = {}
            continue
        if not isinstance(given, dict):
            raise ArgumentError(f"{where}: expected a mapping of loss options, got {given!r} "
                                f"({type(given).__name__}); valid: {_valid_options(known)}")
        out[task] = {option: _check_option(known, option, value, f"{where}.{option}")
                     for option, value in given.items()}
    return out


def _check_option(known, option, value, where):
    """The value as the first kind declaring `option` that accepts it normalises it."""
    if option not in known:
        raise ArgumentError(f"{where}: unknown loss option; valid: {_valid_options(known)}")
    first = None
    for arg in dict.fromkeys(known[option].values()):  # distinct declarations, in kind order
        try:
            return arg.check(value, where)
        except ArgumentError as e:
            first = first or e
    raise first


def resolve(options, tasks):
    """{task: options} for the tasks given options, each checked against its task's kind;
    an unknown task or an option its kind does not take is an ArgumentError naming the key."""
    names = [t.name for t in tasks]
    for task in options or {}:
        if task not in names:
            raise ArgumentError(f"{KEY}.{task}: unknown task; valid: {', '.join(names)}")
    out = {}
    for task in tasks:
        if (options or {}).get(task.name):
            out[task.name] = task.check_loss_options(options[task.name])
    return out
