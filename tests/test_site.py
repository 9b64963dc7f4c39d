"""The docs site and the pictures: built strictly, nothing private published, honest axes."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from seqmnist_zoo.reports import per_class_figure
from seqmnist_zoo.tuning.recorded_search import plot_study

REPO = Path(__file__).resolve().parents[1]


def test_site_builds_strictly_without_publishing_its_hooks(tmp_path):
    site = tmp_path / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not list(site.rglob("hooks.py")), "docs/hooks.py must not be published"
    assert "white-space: pre-wrap" in (site / "stylesheets" / "extra.css").read_text()
    own = (site / "own_digits" / "index.html").read_text()
    assert "photographed (10,000)" in own and "contact_sheet.png" in own
    assert (site / "images" / "examples" / "my_digit.jpg").is_file()


def test_per_digit_chart_starts_at_zero_in_one_unit():
    figure = per_class_figure([0.999, 0.98] + [0.99] * 8)
    axis = figure.axes[0]
    assert axis.get_ylim()[0] == 0
    labels = [text.get_text() for text in axis.texts]
    assert labels[:2] == ["0.1%", "2.0%"] and all(label.endswith("%") for label in labels)


def test_timestep_plot_labels_do_not_overlap(tmp_path):
    rows = {"lstm": {t: {"val_accuracy": 0.9} for t in (1, 2, 4, 7, 14, 16, 28, 49, 56, 112, 196)}}
    figure_path = tmp_path / "study.png"
    import matplotlib.pyplot as plt

    captured = {}
    original = plt.close
    plt.close = lambda figure=None: captured.setdefault("figure", figure)
    try:
        plot_study(rows, figure_path)
    finally:
        plt.close = original
    figure = captured["figure"]
    renderer = figure.canvas.get_renderer()
    boxes = [label.get_window_extent(renderer) for label in figure.axes[0].get_xticklabels()
             if label.get_text()]
    assert len(boxes) == 11
    for left, right in zip(boxes, boxes[1:], strict=False):
        assert left.x1 <= right.x0, "x labels overlap"
    assert figure_path.is_file() and np.isfinite(boxes[0].x0)
