"""`MultiTaskModel`: preprocessing -> architecture (encoders, towers) -> one head per task.

A Keras 3 functional model whose outputs are a dict keyed by task name (the
probabilities or values each task's kind gives). Every head is a Dense layer
`<task>_logits` followed by the output layer `<task>`; the trainer computes
losses from the logits (`training_view`), a served model returns the outputs.
Its constructor arguments are its config, so it round-trips through `.keras` files.

Example:
>>> import models
>>> from tasks import Task
>>> from inputs import InputSpec
>>> model = models.MultiTaskModel(
...     tasks=[Task("left", "multiclass", [str(d) for d in range(10)]).to_config(),
...            Task("same_digit", "binary").to_config()],
...     inputs=[InputSpec("image", "image", shape=(28, 28, 1), dtype="uint8").to_config()],
...     architecture="shared_bottom", encoder="cnn",
...     encoder_args={"filters": [8], "units": 32})
>>> sorted(model.output_names)
['left', 'same_digit']
"""

import keras

from inputs import inputs_from_config
from models.encoders import make_encoder
from models.preprocessing import model_inputs, preprocess
from models.registry import check_architecture_args, get_architecture
from tasks import tasks_from_config


def split_architecture_result(name, result, tasks):
    """(towers, probes, logits) from what architecture `name` returned: `(towers, probes)`
    or `(towers, probes, logits)`; every task must be in exactly one of towers and logits."""
    towers, probes, given = (tuple(result) + ({},))[:3]
    for task in tasks:
        if (task.name in towers) == (task.name in given):
            where = "both its towers and its logits" if task.name in towers else "neither"
            raise ValueError(f"architecture {name!r} put task {task.name!r} in {where}")
    return towers, probes, given


@keras.saving.register_keras_serializable(package="mtl_zoo")
class MultiTaskModel(keras.Model):
    """A multi-task model with named outputs.

    Args:
        tasks: list of dict (or `Task`). The tasks, as `Task.to_config()` dicts.
        inputs: list of dict (or `InputSpec`). The raw inputs.
        architecture: str. A registered architecture (`models.list_architectures()`).
        encoder: str. A registered encoder (`cnn`, `mlp`, ...).
        encoder_args: dict. Arguments of the encoder factory.
        args: dict. Arguments of the architecture function.
    """

    def __init__(self, tasks, inputs, architecture="shared_bottom", encoder="cnn",
                 encoder_args=None, args=None, **kwargs):
        tasks = tasks_from_config(tasks)
        input_specs = inputs_from_config(inputs)
        encoder_args = dict(encoder_args or {})
        args = dict(args or {})
        arch = get_architecture(architecture)
        check_architecture_args(architecture, args)

        # === Functional graph ===
        raw = model_inputs(input_specs)
        features = preprocess(raw, input_specs)

        def build_encoder(name, input_shape=None):
            # `input_shape`: an encoder over other tensors than the features (a level of
            # `hierarchical` reading the level below and its tasks' towers).
            return make_encoder(encoder, input_shape or features.shape[1:], name=name,
                                args=encoder_args)

        towers, probes, given = split_architecture_result(
            architecture, arch(features, tasks, build_encoder, **args), tasks)
        logits, outputs = {}, {}
        for task in tasks:
            to_logits, to_output = task.make_head()
            # An architecture may compute a task's logits itself (ESMM: the CTCVR logit is
            # a function of the CTR and CVR logits); the task then gets only its output layer.
            logits[task.name] = given[task.name] if task.name in given else \
                to_logits(towers[task.name])
            outputs[task.name] = to_output(logits[task.name])
        super().__init__(inputs=raw, outputs=outputs, **kwargs)

        # === Config ===
        self.tasks = tasks
        self.input_specs = input_specs
        self.architecture = architecture
        self.encoder = encoder
        self.encoder_args = encoder_args
        self.args = args
        self._probes = probes
        self._logits = logits

    def training_view(self, representation=()):
        """A model sharing this one's weights that returns `(outputs, logits, representation)`:
        the output dict, the logits dict (what losses are computed from) and the list of
        `representation` tensors of this graph (see `training/sharing.py`)."""
        return keras.Model(self.input, [self.output, dict(self._logits), list(representation)],
                           name=f"{self.name}_training_view")

    def probe_model(self):
        """A model sharing this one's weights whose outputs are the architecture's probes
        (e.g. MMoE gate weights); None when the architecture has none."""
        if not self._probes:
            return None
        return keras.Model(self.input, self._probes, name=f"{self.name}_probes")

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "tasks": [t.to_config() for t in self.tasks],
            "inputs": [i.to_config() for i in self.input_specs],
            "architecture": self.architecture,
            "encoder": self.encoder,
            "encoder_args": self.encoder_args,
            "args": self.args,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
