"""Run reports: markdown + one self-contained HTML page per run folder, and the figures in them.

``build_report`` renders a run's results (``ExperimentResult``) and manifest; ``rebuild_report``
does the same from a finished run folder on disk (``relreps report DIR``). The figure helpers
write PNGs into the run folder and return ``Figure`` records for results. Matplotlib is imported
only when a figure is drawn.

Modules: ``render`` (markdown and HTML), ``run_folder`` (reading a run folder back), ``figures``
(the generic figures) and ``stitching_figures`` (the stitching heatmaps).
"""

from __future__ import annotations

from relreps.report.figures import (
    bar_chart,
    image_grid,
    line_plot,
    scatter_plot,
    shared_pca_2d,
    space_views,
    stitching_heatmaps,
)
from relreps.report.render import (
    RunFolderError,
    build_report,
    format_cell,
    load_run,
    overall_status,
    rebuild_report,
    render_html,
    render_markdown,
)

__all__ = [
    "RunFolderError",
    "bar_chart",
    "build_report",
    "format_cell",
    "image_grid",
    "line_plot",
    "load_run",
    "overall_status",
    "rebuild_report",
    "render_html",
    "render_markdown",
    "scatter_plot",
    "shared_pca_2d",
    "space_views",
    "stitching_heatmaps",
]
