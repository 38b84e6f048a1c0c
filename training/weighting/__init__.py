"""Loss weighting and gradient balancing: how task losses become one update.

`import training.weighting` registers every method. A method is a class on the
`Weighting` base (`base.py`), registered by snake_case name and chosen with
`train.weighting`; `train.weighting_args` are its constructor arguments.

- `loss_weighting.py`: equal, static, uncertainty, dwa, rlw, gradnorm;
- `gradient_balancing.py`: pcgrad, mgda_ub, cagrad, imtl_g, nash_mtl, aligned_mtl;
- `solvers.py`: the small solvers on the Gram matrix they share.

Adding a method is one class in the family's module with its
`@register_weighting("name")` line and its `@arguments(...)` declaration (what
`train.weighting_args` may hold: `utils/arguments.py`).

Example:
>>> from training.weighting import list_weightings
>>> "pcgrad" in list_weightings() and "uncertainty" in list_weightings()
True
"""

from training.weighting.base import (  # noqa: F401
    WEIGHTINGS, Step, StepInfo, Weighting, check_task_weights, list_weightings, make_weighting,
    register_weighting, task_gradient_gram)
from training.weighting import loss_weighting  # noqa: F401  (registers its methods)
from training.weighting import gradient_balancing  # noqa: F401  (registers its methods)
from training.weighting.gradient_balancing import GradientBalancing  # noqa: F401
