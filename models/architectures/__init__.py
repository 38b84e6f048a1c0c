"""Multi-task architectures, one file each; `models/registry.py` lists them by name.

| name            | sharing                                              |
|-----------------|------------------------------------------------------|
| `shared_bottom` | one encoder, per-task towers (hard sharing)          |
| `soft_sharing`  | per-task networks tied by an L2 distance penalty     |
| `cross_stitch`  | per-task networks mixed by learned cross-stitch units|
| `mmoe`          | shared experts, one softmax gate per task            |
| `omoe`          | shared experts, one softmax gate for all tasks       |
| `dselect_k`     | shared experts, one sparse (top-k) gate per task     |
| `cgc`           | shared + task-specific experts, one gate per task    |
| `ple`           | stacked CGC levels with shared gates between them    |
| `hierarchical`  | tasks at different depths of one trunk               |
| `learning_to_branch` | a tree of encoder stages, branching learned (Gumbel-softmax) |
| `mtan`          | one trunk, per-task attention masks on its stages    |
| `esmm`          | CTR and CVR networks, pCTCVR = pCTR x pCVR           |
| `aitm`          | funnel-step towers linked by attention, calibrated   |
| `single_task`   | nothing shared: the baseline                         |
"""
