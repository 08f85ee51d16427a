"""storm.png: what `make storm` measured, drawn for a user choosing settings (matplotlib, a dev dependency only).

Top row: time to page, one cumulative curve per scenario (the share of groups whose incident was open by then), with
each scenario's floor as a dotted line. Below, one panel per scenario: requests per second reaching Incident
Manager, stacked by operation, with throttled requests drawn as a line of their own.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.storm.simulation import StormFigures

_OPERATIONS = (
    "StartIncident", "UpdateRelatedItems", "CreateTimelineEvent", "GetIncidentRecord", "UpdateIncidentRecord",
)  # fmt: skip


def draw(runs: Sequence[StormFigures], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(runs) + 1, 1, figsize=(10, 3.2 * (len(runs) + 1)), squeeze=False)
    pages = axes[0][0]
    for figures in runs:
        times = sorted(figures.page_seconds)
        shares = [(index + 1) / figures.groups for index in range(len(times))]
        (line,) = pages.step(times, shares, where="post", label=figures.scenario.title.removeprefix("scenario: "))
        pages.axvline(figures.page_floor, color=line.get_color(), linestyle=":", linewidth=1)
    pages.set_xscale("log")
    pages.set_xlabel("seconds after the burst (dotted: floor = batching window + groups / rate)")
    pages.set_ylabel("groups paged")
    pages.set_title("Time to page (CDF per scenario)")
    pages.legend(loc="lower right", fontsize="small")
    pages.grid(True, which="both", alpha=0.3)
    for row, figures in enumerate(runs, start=1):
        panel = axes[row][0]
        last = max((when for when, _, _ in figures.requests), default=0.0)
        # Bins wide enough to be seen (about 300 per panel), as average requests per second over each bin.
        width = max(1, math.ceil(last / 300))
        starts = list(range(0, int(last) + 1, width))
        bottom = [0.0] * len(starts)
        for operation in _OPERATIONS:
            per_bin = Counter(int(when) // width for when, name, result in figures.requests
                              if name == operation and result != "throttled")  # fmt: skip
            heights = [per_bin.get(index, 0) / width for index in range(len(starts))]
            if any(heights):
                panel.bar(starts, heights, width=width, bottom=bottom, align="edge", label=operation, linewidth=0)
                bottom = [low + high for low, high in zip(bottom, heights, strict=True)]
        throttled = Counter(int(when) // width for when, _, result in figures.requests if result == "throttled")
        if throttled:
            panel.plot([start + width / 2 for start in starts],
                       [throttled.get(index, 0) / width for index in range(len(starts))], color="black",
                       linewidth=0.8, label="throttled (429)")  # fmt: skip
        panel.axhline(figures.rate, color="red", linestyle="--", linewidth=0.8, label="rate limit")
        panel.set_xlim(0, max(last, 1.0))
        panel.set_ylim(0, max(figures.rate * 2, 1))
        panel.set_ylabel(f"requests / s ({width} s bins)")
        panel.set_title(f"Requests per second by operation: {figures.scenario.title.removeprefix('scenario: ')}")
        panel.legend(loc="upper right", fontsize="x-small", ncol=3)
    axes[-1][0].set_xlabel("seconds after the burst")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
