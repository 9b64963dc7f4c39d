"""The figures a study file can ask for (its ``figures`` list), drawn from its recorded runs.

- ``accuracy_by_timesteps``: test accuracy (mean ± std over seeds) against T, one line per cell,
  row-resampled control layouts as separate markers;
- ``curves``: validation accuracy against digits seen, for each cell and a few T;
- ``timestep_gradients``: the input gradient of each timestep, first step to last, after training;
- ``gradient_norms``: the weight-gradient norm on a fixed batch over training, per cell and setting.

Lines are medians (or means) over the seeds recorded so far.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import numpy as np

COLORS = {"simple_rnn": "tab:red", "gru": "tab:green", "lstm": "tab:blue", "mlp": "tab:gray"}


def _plt():
    from ..reports import plt

    return plt


def _legend(axis, size: int) -> None:
    if axis.get_legend_handles_labels()[0]:
        axis.legend(fontsize=size)


def _save(figure, output) -> None:
    figure.tight_layout()
    figure.savefig(output)
    _plt().close(figure)


def _cell_panels(runs, chosen):
    """One panel per cell, sharing the y axis, and a colour for each chosen T."""
    plt = _plt()
    cells = sorted({r["settings"]["cell"] for r in runs})
    figure, axes = plt.subplots(1, len(cells), figsize=(4.2 * len(cells), 3.8), dpi=100,
                                sharey=True, squeeze=False)
    shades = plt.get_cmap("viridis")(np.linspace(0, 0.85, len(chosen)))
    pairs = list(zip(shades, chosen, strict=True))
    return figure, axes, [(axis, cell, pairs) for axis, cell in zip(axes[0], cells, strict=True)]


def accuracy_by_timesteps(study: dict[str, Any], runs: list[dict[str, Any]], output) -> None:
    """Test accuracy against timesteps (evenly spaced in order), mean ± std over seeds.

    Examples:
        >>> study, record = example_record()
        >>> accuracy_by_timesteps(study, record["runs"], tempfile.mktemp(suffix=".png"))
    """
    plt = _plt()
    points = defaultdict(list)
    for run in runs:
        s = run["settings"]
        points[(s["cell"], s["layout"], s["timesteps"])].append(run["test_accuracy"] * 100)
    every = sorted({t for _, _, t in points})
    position = {t: i for i, t in enumerate(every)}
    figure, axis = plt.subplots(figsize=(7.2, 4.2), dpi=100)
    for cell in sorted({c for c, _, _ in points}):
        for layout, style in (("reshape", "-o"), ("resize", "s")):
            steps = sorted(t for c, lay, t in points if c == cell and lay == layout)
            if not steps:
                continue
            values = [points[(cell, layout, t)] for t in steps]
            axis.errorbar([position[t] + (0.12 if layout == "resize" else 0) for t in steps],
                          [np.mean(v) for v in values],
                          yerr=[np.std(v, ddof=1) if len(v) > 1 else 0 for v in values],
                          fmt=style, color=COLORS.get(cell), capsize=3,
                          label=cell if layout == "reshape" else f"{cell}, whole rows (resampled)",
                          fillstyle="full" if layout == "reshape" else "none")
    axis.set_xticks(range(len(every)), [str(t) for t in every])
    axis.set(xlabel="timesteps T (each step reads 784 / T pixels)", ylabel="test accuracy (%)",
             title="Accuracy against timesteps (mean ± std over seeds)")
    _legend(axis, 8)
    axis.grid(alpha=0.3)
    _save(figure, output)


def curves(study: dict[str, Any], runs: list[dict[str, Any]], output) -> None:
    """Validation accuracy against digits seen (one line per seed): slower learning or a lower ceiling?

    Examples:
        >>> study, record = example_record()
        >>> curves(study, record["runs"], tempfile.mktemp(suffix=".png"))
    """
    chosen = study.get("curve_timesteps", [7, 28, 112])
    figure, axes, panels = _cell_panels(runs, chosen)
    for axis, cell, shades in panels:
        for shade, t in shades:
            same = [r for r in runs if r["settings"]["cell"] == cell and r["settings"]["timesteps"] == t
                    and r["settings"]["layout"] == "reshape" and r["val_accuracy"]]
            for number, run in enumerate(same):  # every seed its own line: checkpoints may differ
                seen = [s * run["settings"]["batch_size"] for s in run["checkpoint_steps"]]
                axis.plot(seen, [100 * (v or 0) for v in run["val_accuracy"]], "-o", color=shade,
                          markersize=3, linewidth=1, label=f"T = {t}" if number == 0 else None)
        axis.set(title=cell, xlabel="training digits seen")
        axis.grid(alpha=0.3)
        _legend(axis, 8)
    axes[0][0].set_ylabel("validation accuracy (%)")
    _save(figure, output)


def timestep_gradients(study: dict[str, Any], runs: list[dict[str, Any]], output) -> None:
    """Per-timestep input gradient, relative to the last step, against position in the sequence.

    Only runs matching the study's ``gradient_settings`` (e.g. one learning rate) are drawn, and
    each T from the first group that ran it, so one line never mixes two budgets.

    Examples:
        >>> study, record = example_record()
        >>> timestep_gradients(study, record["runs"], tempfile.mktemp(suffix=".png"))
    """
    chosen = study.get("gradient_timesteps", [28, 112, 784])
    wanted = study.get("gradient_settings", {})
    runs = [r for r in runs if all(r["settings"][k] == v for k, v in wanted.items())]
    order = [g["name"] for g in study["groups"]]
    figure, axes, panels = _cell_panels(runs, chosen)
    for axis, cell, shades in panels:
        for shade, t in shades:
            for key, style in (("timestep_gradients_before", ":"), ("timestep_gradients_after", "-")):
                matching = [r for r in runs if r["settings"]["cell"] == cell and r[key]
                            and r["settings"]["timesteps"] == t and r["settings"]["layout"] == "reshape"]
                if not matching:
                    continue
                group = min((r["group"] for r in matching), key=order.index)
                profiles = [r[key] for r in matching if r["group"] == group]
                profile = np.median(np.array(profiles), axis=0)
                profile = profile / profile[-1] if profile[-1] > 0 else profile
                axis.semilogy((np.arange(t) + 0.5) / t * 28, profile, style, color=shade,
                              label=f"T = {t}, " + ("trained" if "after" in key else "untrained"))
        axis.set(title=cell, xlabel="image row the step reads (0 = top)")
        axis.grid(alpha=0.3, which="both")
        _legend(axis, 7)
    axes[0][0].set_ylabel("input gradient per pixel, / last step's")
    if wanted:
        figure.suptitle("runs with " + ", ".join(f"{k} {v}" for k, v in wanted.items()), fontsize=9)
    _save(figure, output)


def gradient_norms(study: dict[str, Any], runs: list[dict[str, Any]], output) -> None:
    """Weight-gradient norm on a fixed batch over training (first recorded seed), per group and rate.

    Examples:
        >>> study, record = example_record()
        >>> gradient_norms(study, record["runs"], tempfile.mktemp(suffix=".png"))
    """
    plt = _plt()
    groups = [g["name"] for g in study["groups"]]
    rates = sorted({r["settings"]["learning_rate"] for r in runs})
    figure, axes = plt.subplots(len(groups), len(rates), figsize=(4.4 * len(rates), 3.0 * len(groups)),
                                dpi=100, squeeze=False, sharey=True)
    for row, group in zip(axes, groups, strict=True):
        for axis, rate in zip(row, rates, strict=True):
            for cell in sorted({r["settings"]["cell"] for r in runs}):
                for clip, style in ((None, "-"), (1.0, "--")):
                    same = [r for r in runs if r["group"] == group and r["settings"]["cell"] == cell
                            and r["settings"]["learning_rate"] == rate
                            and r["settings"]["clipnorm"] == clip]
                    if not same:
                        continue
                    series = same[0]["gradient_norms"]
                    norms = [n if n is not None else np.nan for _, n in series]
                    clipping = "no clipping" if clip is None else f"clipnorm {clip:g}"
                    axis.semilogy([s for s, _ in series], norms, style, color=COLORS.get(cell),
                                  linewidth=1, label=f"{cell}, {clipping}")
            axis.set_title(f"{group}, learning rate {rate:g}", fontsize=9)
            axis.grid(alpha=0.3, which="both")
    _legend(axes[0][0], 7)
    for axis in axes[-1]:
        axis.set_xlabel("training step")
    for row in axes:
        row[0].set_ylabel("gradient norm")
    _save(figure, output)


def claimed_accuracy(claim: str) -> float | None:
    """The first percentage in a recipe's claim, as a fraction; None when it states no number.

    Examples:
        >>> claimed_accuracy("99.2% on one batch of 1,000 test digits"), claimed_accuracy("98%+")
        (0.992, 0.98)
        >>> claimed_accuracy("does not train") is None
        True
    """
    found = re.search(r"(\d+(?:\.\d+)?)\s*%", claim)
    return round(float(found.group(1)) / 100, 6) if found else None


def recipe_slices(study: dict[str, Any], runs: list[dict[str, Any]], output) -> None:
    """Per recipe: each seed's accuracy on all 10,000 test digits, each 1,000-digit slice, the claim.

    The left panel shows every recipe; the right one zooms in on those above 90%.

    Examples:
        >>> study, record = example_record()
        >>> recipe_slices(study, record["runs"], tempfile.mktemp(suffix=".png"))
    """
    plt = _plt()
    groups = [g for g in study["groups"] if any(r["group"] == g["name"] for r in runs)]
    figure, axes = plt.subplots(1, 2, figsize=(10.0, 0.55 * len(groups) + 1.8), dpi=100, sharey=True,
                                gridspec_kw={"width_ratios": [1, 2]})
    high = []
    for axis in axes:
        labels = ["one 1,000-digit slice", "all 10,000 test digits, one seed", "the recipe's claim"]
        for row, group in enumerate(groups):
            same = [r for r in runs if r["group"] == group["name"]]
            slices = [100 * a for r in same for a in r["slice_accuracies"]]
            full = [100 * r["test_accuracy"] for r in same]
            claim = claimed_accuracy(group.get("claim", ""))
            high += [v for v in slices + full + ([100 * claim] if claim else []) if v >= 90]
            axis.plot(slices, [row + 0.2] * len(slices), "|", color="tab:gray", markersize=9,
                      label=labels[0] if row == 0 else None)
            axis.plot(full, [row] * len(full), "o", color="tab:blue", label=labels[1] if row == 0 else None)
            if claim is not None:
                axis.plot([100 * claim], [row], "x", color="tab:red", markersize=9, mew=2, label=labels[2])
                labels[2] = None
        axis.grid(alpha=0.3, axis="x")
        axis.set_xlabel("test accuracy (%)")
    axes[0].set_yticks(range(len(groups)), [g["name"] for g in groups])
    axes[0].invert_yaxis()
    axes[0].set_title("every recipe", fontsize=9)
    if high:
        axes[1].set_xlim(min(high) - 0.3, 100.1)
    axes[1].set_title("zoom: the recipes above 90%", fontsize=9)
    axes[1].legend(fontsize=8, loc="lower left")
    figure.suptitle("Tutorial recipes: the claim, the full test set, and 1,000-digit slices")
    _save(figure, output)


FIGURES = {"accuracy_by_timesteps": accuracy_by_timesteps, "curves": curves,
           "timestep_gradients": timestep_gradients, "gradient_norms": gradient_norms,
           "recipe_slices": recipe_slices}
