"""A task grouping served as one model: each task answered by its group's network.

A grouping (`training/grouping/`) trains one `MultiTaskModel` per group. `GroupedModel`
puts those networks side by side behind the union of their inputs and answers every
task with the network that serves it; `export_grouped_saved_model` exports it through
`models/export.py`'s `export_saved_model`, unchanged, so the SavedModel has the same
signatures as any export (`serving_default` and `tf_example` with one named output per
task, `classify_<task>` / `regress_<task>`, warmup records), and serves like any model.

Which network answers a task: the only network that has it (as a served, not
auxiliary, task); with overlapping groups a task is in several, and `serving` (task ->
network index, e.g. `Grouping.serving`) says which.

Example:
>>> import models
>>> from tasks import Task
>>> from inputs import InputSpec
>>> from models.grouped_export import GroupedModel, export_grouped_saved_model
>>> def network(*names):
...     return models.MultiTaskModel(
...         tasks=[Task(n, "binary").to_config() for n in names],
...         inputs=[InputSpec("x", "numeric", shape=(4,)).to_config()],
...         encoder="mlp", encoder_args={"units": [8]}, args={"tower_units": [4]})
>>> grouped = GroupedModel([network("a", "b"), network("b", "c")], serving={"b": 1})
>>> grouped.serving
{'a': 0, 'b': 1, 'c': 1}
>>> export_grouped_saved_model(grouped.networks, "exported/abc", {"b": 1})  # doctest: +SKIP
'.../exported/abc/1'
"""

import keras

from inputs import InputSpec
from models.export import export_saved_model, served_tasks


def union_inputs(networks):
    """The networks' raw inputs, each once (first appearance order); one name declared
    differently by two networks is an error."""
    specs = {}
    for index, network in enumerate(networks):
        for spec in network.input_specs:
            spec = InputSpec.from_config(spec)
            if spec.name in specs and specs[spec.name] != spec:
                raise ValueError(f"grouping: input {spec.name!r} differs between the networks "
                                 f"(network {index}: {spec.to_config()}; before: "
                                 f"{specs[spec.name].to_config()})")
            specs.setdefault(spec.name, spec)
    return tuple(specs.values())


def serving_networks(networks, serving=None):
    """{task name: index of the network that answers it}, every served task once."""
    offered = {}
    for index, network in enumerate(networks):
        for task in served_tasks(network):
            offered.setdefault(task.name, []).append(index)
    chosen = dict(serving or {})
    unknown = sorted(set(chosen) - set(offered))
    if unknown:
        raise ValueError(f"grouping.serving: unknown task(s) {unknown}; the networks serve: "
                         f"{', '.join(offered)}")
    for task, where in offered.items():
        if task in chosen:
            if chosen[task] not in where:
                raise ValueError(f"grouping.serving.{task}: network {chosen[task]} does not "
                                 f"serve {task!r}; valid: {where}")
        elif len(where) > 1:
            raise ValueError(f"grouping.serving: task {task!r} is in networks {where}; say "
                             "which one answers it")
        else:
            chosen[task] = where[0]
    return {task: int(chosen[task]) for task in offered}


class GroupedModel(keras.Model):
    """Several trained networks answering their tasks as one model.

    Args:
        networks: list of `MultiTaskModel`. One per group, trained.
        serving: dict or None. Task -> index of the network that answers it (needed
            only for a task in several networks).

    Attributes:
        tasks: tuple of `Task`. The served tasks, each as its serving network has it.
        input_specs: tuple of `InputSpec`. The union of the networks' inputs.
    """

    def __init__(self, networks, serving=None, **kwargs):
        super().__init__(**kwargs)
        self.networks = list(networks)
        self.serving = serving_networks(self.networks, serving)
        self.input_specs = union_inputs(self.networks)
        by_name = {t.name: t for i, n in enumerate(self.networks) for t in served_tasks(n)
                   if self.serving[t.name] == i}
        self.tasks = tuple(by_name[name] for name in self.serving)

    def call(self, inputs, training=False):
        outputs = {}
        for index, network in enumerate(self.networks):
            mine = [t for t, i in self.serving.items() if i == index]
            if mine:  # a network that answers nothing is not run
                answer = network({s.name: inputs[s.name] for s in network.input_specs},
                                 training=training)
                outputs.update({t: answer[t] for t in mine})
        return outputs


def export_grouped_saved_model(networks, export_base, serving=None, version=None,
                               model_name=None):
    """Exports the grouping's networks as ONE SavedModel under `export_base/<version>`;
    returns the version folder (see `models.export.export_saved_model`)."""
    return export_saved_model(GroupedModel(networks, serving), export_base, version=version,
                              model_name=model_name)
