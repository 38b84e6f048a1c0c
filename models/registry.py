"""Architecture registry: snake_case name -> function that wires towers from features,
an explicit table (adding an architecture is one module under `models/architectures/`
and one line here).

An architecture is a function

    fn(features, tasks, make_encoder, **args) -> (towers, probes)

- `features`: the preprocessed input tensor (an image or a feature vector);
- `tasks`: tuple of `tasks.Task`;
- `make_encoder(name)`: builds a NEW configured encoder (fresh weights) each call;
- returns `towers`, a dict task name -> the tensor that task's head reads, and
  `probes`, a dict of extra named tensors (e.g. gate weights) that are not
  task outputs: they are reachable with `MultiTaskModel.probe_model()` and left
  out of the serving signature.

It may return a third dict, `logits`: task name -> that task's logits, for tasks
whose logits it computes itself (ESMM's CTCVR logit is a function of the CTR and
CVR logits; AITM's calibrator reads the probabilities). Such a task gets only its
head's output layer, and each task is in exactly one of `towers` and `logits`. To
make a task's standard logits layer (`<task>_logits`), call `task.make_head()[0]`.

`model.args` are checked against the function's signature: names, and types
from annotations or defaults (`utils/arguments.py`).

Extra losses (e.g. soft sharing's L2 penalty) are added with `layer.add_loss`
inside a layer; the trainer adds `model.losses` to the total loss.

Example:
>>> from models.registry import get_architecture
>>> get_architecture("shared_bottom").__name__
'shared_bottom'
"""

from models.architectures.aitm import aitm
from models.architectures.cgc import cgc
from models.architectures.cross_stitch import cross_stitch
from models.architectures.dselect_k import dselect_k
from models.architectures.esmm import esmm
from models.architectures.hierarchical import hierarchical
from models.architectures.learning_to_branch import learning_to_branch
from models.architectures.mmoe import mmoe
from models.architectures.mtan import mtan
from models.architectures.omoe import omoe
from models.architectures.ple import ple
from models.architectures.shared_bottom import shared_bottom
from models.architectures.single_task import single_task
from models.architectures.soft_sharing import soft_sharing
from utils.arguments import check_arguments
from utils.registry import Registry

ARCHITECTURES = Registry("architecture", key="model.architecture", entries={
    "shared_bottom": shared_bottom,
    "soft_sharing": soft_sharing,
    "cross_stitch": cross_stitch,
    "mmoe": mmoe,
    "omoe": omoe,
    "dselect_k": dselect_k,
    "cgc": cgc,
    "ple": ple,
    "hierarchical": hierarchical,
    "learning_to_branch": learning_to_branch,
    "mtan": mtan,
    "esmm": esmm,
    "aitm": aitm,
    "single_task": single_task,
})

RESERVED = ("features", "tasks", "make_encoder")


def list_architectures():
    return ARCHITECTURES.names()


def get_architecture(name):
    return ARCHITECTURES.get(name)


def check_architecture_args(name, args):
    """Unknown names list the valid ones; a value of the wrong type names the key."""
    check_arguments(get_architecture(name), args or {}, "model.args", skip=RESERVED,
                    what=f"architecture {name!r}")
