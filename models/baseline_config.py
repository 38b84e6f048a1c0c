"""The config of a single-task baseline, from a multi-task model config.

`train.py --baselines` trains, next to a multi-task model, one ONE-task `single_task`
model per task with the same encoder and tower widths (`single_task_config`), saved and
exported on its own; Δm compares the two.

Example:
>>> import models
>>> from inputs import InputSpec
>>> from models.baseline_config import single_task_config
>>> from tasks import Task
>>> mtl = {"architecture": "mmoe", "encoder": "mlp", "encoder_args": {"units": [8]},
...        "args": {"num_experts": 2, "tower_units": [4]}}
>>> single_task_config(mtl, "a")
{'architecture': 'single_task', 'encoder': 'mlp', 'encoder_args': {'units': [8]}, 'args': {'tower_units': [4]}}
>>> m = models.MultiTaskModel(tasks=[Task("a", "binary")], inputs=[InputSpec("x", "numeric")],
...                           **single_task_config(mtl, "a"))
>>> m.output_names
['a']
"""

import inspect

from models.registry import get_architecture


def _task_name(task):
    if isinstance(task, str):
        return task
    if isinstance(task, dict):
        return task["name"]
    return task.name


def single_task_config(config, task):
    """The config of a one-task baseline of `task`, from a multi-task model config.

    Args:
        config: dict. Either the `model:` section of an experiment config
            (`architecture`, `encoder`, `encoder_args`, `args`) or a whole
            `MultiTaskModel.get_config()` (then `tasks` is narrowed to `task`,
            `inputs` kept and `name` suffixed with the task).
        task: str, dict or `Task`. The task.

    Returns:
        dict of `MultiTaskModel` keyword arguments: `architecture: single_task`,
        the same `encoder` and `encoder_args`, and `args: {tower_units}` taken
        from the multi-task `args` (or that architecture's default tower).
    """
    name = _task_name(task)
    args = dict(config.get("args") or {})
    architecture = config.get("architecture", "shared_bottom")
    if "tower_units" in args:
        tower_units = args["tower_units"]
    else:
        param = inspect.signature(get_architecture(architecture)).parameters.get("tower_units")
        tower_units = param.default if param is not None else None
    out = {"architecture": "single_task", "encoder": config.get("encoder", "cnn"),
           "encoder_args": dict(config.get("encoder_args") or {}),
           "args": {} if tower_units is None else {"tower_units": list(tower_units)}}
    if "tasks" in config:
        picked = [t for t in config["tasks"] if _task_name(t) == name]
        if not picked:
            raise ValueError(f"single_task_config: unknown task {name!r}; tasks: "
                             f"{', '.join(_task_name(t) for t in config['tasks'])}")
        extra = {k: v for k, v in config.items()
                 if k not in ("tasks", "architecture", "encoder", "encoder_args", "args")}
        out = {**extra, **out, "tasks": picked}
        if "name" in config:
            out["name"] = f"{config['name']}_{name}"
    return out
