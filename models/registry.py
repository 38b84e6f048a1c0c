"""Architecture registry: snake_case name -> function that wires towers from features.

An architecture is a function

    fn(features, tasks, make_encoder, **args) -> (towers, probes)

- `features`: the preprocessed input tensor (an image or a feature vector);
- `tasks`: tuple of `data.tasks.Task`;
- `make_encoder(name)`: builds a NEW configured encoder (fresh weights) each call;
- returns `towers`, a dict task name -> the tensor that task's head reads, and
  `probes`, a dict of extra named tensors (e.g. gate weights) that are not
  task outputs: they are reachable with `MultiTaskModel.probe_model()` and left
  out of the serving signature.

Extra losses (e.g. soft sharing's L2 penalty) are added with `layer.add_loss`
inside a layer; the trainer adds `model.losses` to the total loss.

Example:
>>> from models.registry import get_architecture
>>> get_architecture("shared_bottom").__name__
'shared_bottom'
"""

import inspect

ARCHITECTURES = {}

RESERVED = ("features", "tasks", "make_encoder")


def register_architecture(name):
    def wrap(fn):
        if name in ARCHITECTURES and ARCHITECTURES[name] is not fn:
            raise ValueError(f"Architecture {name!r} registered twice.")
        ARCHITECTURES[name] = fn
        return fn
    return wrap


def list_architectures():
    return sorted(ARCHITECTURES)


def get_architecture(name):
    if name not in ARCHITECTURES:
        raise ValueError(f"model.architecture: unknown architecture {name!r}; known "
                         f"architectures: {', '.join(list_architectures())}")
    return ARCHITECTURES[name]


def architecture_args(name):
    """The names of the extra arguments architecture `name` takes."""
    return [p for p in inspect.signature(get_architecture(name)).parameters if p not in RESERVED]


def check_architecture_args(name, args):
    valid = architecture_args(name)
    unknown = sorted(set(args) - set(valid))
    if unknown:
        raise ValueError(f"model.args: unknown argument(s) {unknown} for architecture {name!r}; "
                         f"valid: {', '.join(valid) or '(none)'}")
