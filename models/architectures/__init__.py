"""Multi-task architectures, one file each; importing this package registers them all.

| name            | sharing                                              |
|-----------------|------------------------------------------------------|
| `shared_bottom` | one encoder, per-task towers (hard sharing)          |
| `soft_sharing`  | per-task networks tied by an L2 distance penalty     |
| `cross_stitch`  | per-task networks mixed by learned cross-stitch units|
| `mmoe`          | shared experts, one softmax gate per task            |
| `omoe`          | shared experts, one softmax gate for all tasks       |
| `cgc`           | shared + task-specific experts, one gate per task    |
| `ple`           | stacked CGC levels with shared gates between them    |
| `hierarchical`  | tasks at different depths of one trunk               |
| `single_task`   | nothing shared: the baseline                         |
"""

from models.architectures import (  # noqa: F401  (each registers itself)
    cgc, cross_stitch, hierarchical, mmoe, omoe, ple, shared_bottom, single_task, soft_sharing)
