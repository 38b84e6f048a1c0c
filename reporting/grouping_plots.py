"""The task-grouping figures (matplotlib, Agg): the affinity matrix ordered by group, the
grouping curve, predicted against measured, and a Learning to Branch tree. Each takes
plain data from `study.json` or `history.json` and returns a Figure (None: nothing to draw).

Example:
>>> from reporting.grouping_plots import branching_tree
>>> fig = branching_tree({"layers": [[0, 0, 1]], "tasks": {"a": 0, "b": 2, "c": 0}}, "tree")
>>> len(fig.axes)
1
"""

import numpy as np

from reporting import plots
from reporting.plots import COLORS, plt


def order_by_groups(names, groups):
    """(task order, group boundaries): the tasks group after group (each task once, at
    its first group), then any task in no group."""
    order = []
    bounds = []
    for group in groups:
        order += [t for t in group if t in names and t not in order]
        bounds.append(len(order))
    order += [t for t in names if t not in order]
    return order, bounds[:-1]


def affinity_by_group(matrix, names, groups, title):
    """The affinity Z[i → j] with rows and columns ordered by group, lines between groups."""
    order, bounds = order_by_groups(names, groups)
    index = [names.index(t) for t in order]
    z = np.asarray(matrix, np.float64)[np.ix_(index, index)]
    scale = plots.symmetric_scale(z)
    fig = plots.matrix(z, order, title, vmin=-scale, vmax=scale, fmt="{:.1e}",
                       row_label="step on task i", col_label="loss of task j")
    ax = fig.axes[0]
    for b in bounds:
        ax.axhline(b - 0.5, color="black", lw=1.5)
        ax.axvline(b - 0.5, color="black", lw=1.5)
    return fig


def grouping_curve(rows, key="delta_m", label="Δm % vs single-task"):
    """`key` of TAG's grouping and of the random ones against the number of networks, with
    95% intervals over seeds; k = 1 is one network, k = T the single-task networks."""
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for kind, color, name in (("tag", COLORS[0], "TAG's grouping"),
                              ("random", COLORS[1], "random groupings (mean)")):
        points = [(r["budget"], r[kind][key]) for r in rows if r.get(kind) and r[kind][key]["n"]]
        if not points:
            continue
        k = [p for p, _ in points]
        mean = np.array([s["mean"] for _, s in points])
        low = np.array([s["ci_low"] if np.isfinite(s["ci_low"]) else s["mean"] for _, s in points])
        high = np.array([s["ci_high"] if np.isfinite(s["ci_high"]) else s["mean"]
                         for _, s in points])
        ax.errorbar(k, mean, yerr=[mean - low, high - mean], marker="o", ms=4, capsize=3,
                    color=color, label=name, linestyle="-" if kind == "tag" else "--")
    ax.axhline(0.0, color="grey", lw=0.8)
    budgets = [r["budget"] for r in rows]
    ax.set_xticks(budgets, [f"{k}\n(one network)" if k == 1 else f"{k}\n(single-task)"
                            if k == max(budgets) else str(k) for k in budgets], fontsize=8)
    ax.set_xlabel("networks (budget)", fontsize=8)
    ax.set_ylabel(label, fontsize=8)
    ax.set_title("Grouping curve (test split)", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def predicted_vs_measured(points, key="delta_m", label="measured Δm %"):
    """TAG's predicted score against the measured `key` for every grouping evaluated;
    one colour per seed, filled circles TAG's choices, crosses random groupings."""
    if not points:
        return None
    fig, ax = plt.subplots(figsize=(5.4, 3.6))
    seeds = sorted({p["seed"] for p in points})
    for i, seed in enumerate(seeds):
        for kind, marker in (("tag", "o"), ("random", "x")):
            mine = [p for p in points if p["seed"] == seed and p["kind"] == kind]
            if mine:
                ax.scatter([p["predicted"] for p in mine], [p[key] for p in mine],
                           marker=marker, color=COLORS[i % len(COLORS)], s=28,
                           label=f"seed {seed} {kind}")
                for p in mine:
                    ax.annotate(str(p["budget"]), (p["predicted"], p[key]), fontsize=6,
                                xytext=(3, 2), textcoords="offset points")
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_xlabel("predicted score (mean affinity onto each task from its group)", fontsize=8)
    ax.set_ylabel(label, fontsize=8)
    ax.set_title("Predicted against measured (numbers: budget)", fontsize=10)
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    return fig


def _tree_layers(tree):
    """Node counts per layer of a learned tree (layer 0's from its children's choices)."""
    probabilities = tree.get("probabilities") or {}
    first = probabilities.get("branching_1") or (probabilities.get("branching_tasks")
                                                if not tree["layers"] else None)
    parents = tree["layers"][0] if tree["layers"] else list(tree["tasks"].values())
    width0 = len(first[0]) if first else max(parents) + 1
    return [width0] + [len(layer) for layer in tree["layers"]]


def _used_nodes(tree, widths):
    """Per layer, the nodes some task descends from."""
    used = [set() for _ in widths]
    used[-1] = set(tree["tasks"].values())
    for level in range(len(widths) - 1, 0, -1):
        used[level - 1] = {tree["layers"][level - 1][n] for n in used[level]}
    return used


def _edge(ax, start, end, p=None):
    ax.plot([start[0], end[0]], [start[1], end[1]], color="black", lw=1.0, zorder=1)
    if p is not None:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, f"{p:.2f}", fontsize=6,
                color="dimgray")


def _draw_nodes(ax, tree, widths, x):
    """The input, each layer's nodes and the edges to their parents."""
    probabilities = tree.get("probabilities") or {}
    used = _used_nodes(tree, widths)
    ax.text(0, 1, "input", ha="center", va="center", fontsize=8, zorder=3,
            bbox={"boxstyle": "round", "facecolor": "white"})
    for level, n in enumerate(widths):
        chosen = probabilities.get(f"branching_{level}")
        for j in range(n):
            if level == 0:
                _edge(ax, (0, 1), (x(j, n), 0))
            else:
                parent = tree["layers"][level - 1][j]
                _edge(ax, (x(parent, widths[level - 1]), 1 - level), (x(j, n), -level),
                      chosen[j][parent] if chosen else None)
            ax.scatter([x(j, n)], [-level], s=260, zorder=2, edgecolor="black",
                       color=COLORS[level % len(COLORS)] if j in used[level] else "lightgrey")
            ax.text(x(j, n), -level, str(j), ha="center", va="center", fontsize=7, zorder=3)


def branching_tree(tree, title):
    """A Learning to Branch tree: the input, each layer's nodes, each node's and task's
    chosen parent (edge label: its probability while searching); nodes no task descends
    from are grey."""
    widths = _tree_layers(tree)
    # Tasks under their parents, left to right: fewer crossing edges.
    order = {name: i for i, name in enumerate(tree["tasks"])}
    tasks = sorted(tree["tasks"], key=lambda t: (tree["tasks"][t], order[t]))
    span = max(widths + [len(tasks)])

    def x(i, n):
        return (i - (n - 1) / 2.0) * span / max(n, 1)

    fig, ax = plt.subplots(figsize=(1.6 + 0.9 * span, 1.4 + 0.9 * (len(widths) + 1)))
    _draw_nodes(ax, tree, widths, x)
    bottom = -len(widths)
    chosen = (tree.get("probabilities") or {}).get("branching_tasks")
    for i, task in enumerate(tasks):
        parent = tree["tasks"][task]
        _edge(ax, (x(parent, widths[-1]), bottom + 1), (x(i, len(tasks)), bottom),
              chosen[order[task]][parent] if chosen else None)
        ax.text(x(i, len(tasks)), bottom - 0.05, task, ha="center", va="top", fontsize=8,
                bbox={"boxstyle": "round", "facecolor": "white"})
    ax.set_ylim(bottom - 0.6, 1.4)
    ax.set_xlim(-span / 2 - 0.6, span / 2 + 0.6)
    ax.axis("off")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig
