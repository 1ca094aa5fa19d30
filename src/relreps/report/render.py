"""Render a run folder's report: ``report.md`` and one self-contained ``report.html``.

The report is built only from typed results (``ExperimentResult``) and the run's manifest, so
``relreps report DIR`` can rebuild it from ``DIR/manifest.json`` and ``DIR/results/*.json``
without rerunning anything. The HTML page embeds every figure as a base64 data URI: it can be
mailed or archived as one file. All text coming from results is escaped.

Reading a run folder back (:func:`load_run`, :class:`RunFolderError`) lives in
:mod:`relreps.report.run_folder` and is re-exported here.
"""

from __future__ import annotations

import base64
import html
import json
import math
import numbers
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from relreps._io import atomic_write_text
from relreps._validation import fail
from relreps.report.run_folder import RunFolderError, load_run
from relreps.results import ExperimentResult, Figure, Table

__all__ = [
    "RunFolderError",
    "build_report",
    "format_cell",
    "load_run",
    "overall_status",
    "rebuild_report",
    "render_html",
    "render_markdown",
]

DEFAULT_TITLE = "relreps run report"

_BADGE_COLOURS = {
    "reproduced": "#1a7f37",
    "partly": "#b7791f",
    "not reproduced": "#c62828",
    "skipped": "#6b7280",
    "no paper number": "#2563eb",
    "no verdict": "#6b7280",
    "not finished": "#6b7280",
}
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}


# ---------------------------------------------------------------------------------------------
# small formatting rules shared by both outputs


def format_cell(value: Any) -> str:
    """How a table value is shown: None/NaN as a dash, floats with 4 significant digits.

    Example:
        >>> [format_cell(v) for v in (None, float("nan"), 3, 0.38712, 91.3571, 12345.6, "FT")]
        ['–', '–', '3', '0.3871', '91.36', '12,346', 'FT']
    """
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        v = float(value)
        if not math.isfinite(v):
            return "–"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if v != 0 and abs(v) < 1e-3:
            return f"{v:.2e}"
        return f"{v:.4g}" if abs(v) < 1 else f"{v:.2f}"
    return str(value)


def overall_status(result: ExperimentResult) -> str:
    """One status for an experiment: its verdicts summed up.

    "skipped" when it did not run; "reproduced" / "not reproduced" when every verdict with a paper
    number agrees; "partly" for a mix; "no paper number" when no verdict has one; "no verdict"
    when there are none.

    Example:
        >>> from relreps.results import Verdict
        >>> r = ExperimentResult("x", "X", "paper 5.1", {}, verdicts=(
        ...     Verdict("a", "reproduced", ""), Verdict("b", "not reproduced", "")))
        >>> overall_status(r)
        'partly'
    """
    if result.skipped_reason:
        return "skipped"
    if not result.verdicts:
        return "no verdict"
    judged = {v.status for v in result.verdicts if v.status != "no paper number"}
    if not judged:
        return "no paper number"
    if judged == {"reproduced"}:
        return "reproduced"
    if judged == {"not reproduced"}:
        return "not reproduced"
    return "partly"


def _wall_time(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _slug(text: str) -> str:
    kept = "".join(c if c.isalnum() else "-" for c in text.lower())
    return "-".join(part for part in kept.split("-") if part) or "section"


def _figure_file(folder: Path, figure: Figure) -> tuple[Path | None, str]:
    """The figure's file inside the run folder, or None with the reason it cannot be shown."""
    relative = Path(figure.path)
    if relative.is_absolute() or ".." in relative.parts:
        return None, "outside the run folder"
    full = folder / relative
    if not full.is_file():
        return None, "file missing"
    if full.suffix.lower() not in _MIME:
        return None, f"unsupported image type {full.suffix!r}"
    return full, ""


def _check_inputs(
    folder: Path | str, results: object, manifest: object
) -> tuple[Path, list[ExperimentResult], Mapping[str, Any]]:
    if not isinstance(folder, str | Path):
        raise fail("folder", "a str or pathlib.Path", type(folder).__name__, TypeError)
    path = Path(folder)
    if not path.is_dir():
        raise RunFolderError(
            f"Expected `folder` to be an existing run folder, but got {str(path)!r}."
        )
    if isinstance(results, str | bytes) or not isinstance(results, Sequence):
        raise fail("results", "a list of ExperimentResult", type(results).__name__, TypeError)
    for i, result in enumerate(results):
        if not isinstance(result, ExperimentResult):
            raise fail(f"results[{i}]", "an ExperimentResult", type(result).__name__, TypeError)
    if not isinstance(manifest, Mapping):
        raise fail("manifest", "a dict (the run's manifest)", type(manifest).__name__, TypeError)
    return path, list(results), manifest


# ---------------------------------------------------------------------------------------------
# markdown


def _md(text: Any) -> str:
    """Markdown-safe text on one line: pipes escaped (tables), and ``&``, ``<``, ``>`` as
    entities so text from results is never read as HTML by a markdown viewer."""
    one_line = str(text).replace("\r", " ").replace("\n", " ")
    return html.escape(one_line, quote=False).replace("|", "\\|")


def _md_code(text: Any) -> str:
    """Text for an inline code span (entities are not decoded there, backticks would end it)."""
    return str(text).replace("\r", " ").replace("\n", " ").replace("`", "'")


def _md_json(value: Any) -> str:
    """A fenced JSON block whose fence outlasts any backtick run inside (cannot end early)."""
    text = json.dumps(value, indent=2, default=str)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}json\n{text}\n{fence}"


def _md_table(columns: Sequence[Any], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(_md(c) for c in columns) + " |"]
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    for row in rows:
        cells = [format_cell(v) for v in row]
        cells += [""] * (len(columns) - len(cells))
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    return lines


def render_markdown(
    folder: Path | str,
    results: Sequence[ExperimentResult],
    manifest: Mapping[str, Any],
    *,
    title: str = DEFAULT_TITLE,
    pending: Sequence[str] = (),
) -> str:
    """The report as markdown; figures are linked by their paths relative to ``folder``.

    Args:
        folder: the run folder (figures are looked up in it; missing ones are named, not linked).
        results: the experiments' results, in report order.
        manifest: the run's manifest (versions, seed, config, git commit, machine).
        title: the report's title.
        pending: names of experiments the run asked for that have no result (interrupted run).

    Returns:
        The markdown text.
    """
    path, results, manifest = _check_inputs(folder, results, manifest)
    out = [f"# {_md(title)}", ""]
    created = manifest.get("created")
    if created:
        out += [f"Created {_md(created)}. The manifest is at the end of this report.", ""]
    out += ["## Summary", ""]
    summary = [
        (r.title, r.paper_ref, overall_status(r), _verdict_counts(r), _wall_time(r.wall_time_s))
        for r in results
    ] + [(name, "", "not finished", "", "–") for name in pending]
    out += _md_table(("Experiment", "Paper", "Status", "Verdicts", "Wall time"), summary)
    for result in results:
        out += ["", f"## {_md(result.title)}", ""]
        out.append(
            f"`{_md_code(result.name)}` · {_md(result.paper_ref)} · "
            f"**{overall_status(result)}** · wall time {_wall_time(result.wall_time_s)}"
        )
        out.append("")
        if result.skipped_reason:
            out += [f"**Skipped:** {_md(result.skipped_reason)}", ""]
        if result.verdicts:
            out += ["### Verdicts", ""]
            out += [
                f"- **{_md(v.status)}** — {_md(v.claim)}: {_md(v.detail)}" for v in result.verdicts
            ]
            out.append("")
        for table in result.tables:
            out += [f"### {_md(table.title)}", ""]
            out += _md_table(table.columns, table.rows)
            if table.note:
                out += ["", f"*{_md(table.note)}*"]
            out.append("")
        for figure in result.figures:
            full, problem = _figure_file(path, figure)
            if full is None:
                out += [
                    f"*Figure not shown ({problem}): `{_md_code(figure.path)}` — "
                    f"{_md(figure.caption)}*",
                    "",
                ]
                continue
            alt = _md(figure.caption).replace("[", "(").replace("]", ")")
            out += [
                f"![{alt}]({quote(Path(figure.path).as_posix())})",
                "",
                f"*{_md(figure.caption)}*",
                "",
            ]
        if result.config:
            out += [
                "<details><summary>Configuration</summary>",
                "",
                _md_json(dict(result.config)),
                "",
                "</details>",
                "",
            ]
    out += ["", "## Manifest", ""]
    out += _md_table(("Field", "Value"), _manifest_fields(manifest))
    packages = manifest.get("packages") or {}
    if isinstance(packages, Mapping) and packages:
        out += ["", "### Package versions", ""]
        out += _md_table(("Package", "Version"), sorted(packages.items()))
    if manifest.get("config") is not None:
        out += [
            "",
            "### Run configuration",
            "",
            _md_json(manifest.get("config")),
        ]
    return "\n".join(out).rstrip() + "\n"


def _verdict_counts(result: ExperimentResult) -> str:
    counts: dict[str, int] = {}
    for verdict in result.verdicts:
        counts[verdict.status] = counts.get(verdict.status, 0) + 1
    return ", ".join(f"{n} {status}" for status, n in counts.items())


def _manifest_fields(manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    fields = [
        ("relreps version", manifest.get("relreps_version")),
        ("python", manifest.get("python")),
        ("seed", manifest.get("seed")),
        ("git commit", manifest.get("git_commit")),
        ("created", manifest.get("created")),
    ]
    machine = manifest.get("machine")
    if isinstance(machine, Mapping):
        fields += [(f"machine {k}", v) for k, v in machine.items()]
    known = {
        "relreps_version",
        "python",
        "seed",
        "git_commit",
        "created",
        "machine",
        "packages",
        "config",
    }
    fields += [(str(k), v) for k, v in manifest.items() if k not in known]
    return [
        (k, format_cell(v) if not isinstance(v, Mapping | list) else json.dumps(v))
        for k, v in fields
    ]


# ---------------------------------------------------------------------------------------------
# HTML

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
  max-width: 1100px; padding: 1.5rem; color: #1f2933; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #d0d7de; padding-bottom: 0.2rem;
  margin-top: 2.2rem; } h3 { margin-bottom: 0.4rem; }
.meta { color: #57606a; font-size: 0.9rem; }
table { border-collapse: collapse; margin: 0.5rem 0 0.3rem; font-size: 0.88rem; }
th, td { border: 1px solid #d0d7de; padding: 0.25rem 0.55rem; text-align: right; }
th { background: #f3f4f6; } td:first-child, th:first-child { text-align: left; }
th.paper, td.paper { background: #fff8e6; }
.note { color: #57606a; font-size: 0.85rem; margin-top: 0.2rem; }
.badge { display: inline-block; border-radius: 0.8rem; padding: 0.05rem 0.6rem; color: #fff;
  font-size: 0.8rem; font-weight: 600; white-space: nowrap; }
.skipped { background: #f3f4f6; border-left: 4px solid #6b7280; padding: 0.5rem 0.8rem; }
.missing { color: #c62828; }
ul.verdicts { list-style: none; padding-left: 0; } ul.verdicts li { margin: 0.3rem 0; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto;
  border: 1px solid #e5e7eb; } figcaption { color: #57606a; font-size: 0.85rem; }
pre { background: #f6f8fa; padding: 0.6rem; overflow-x: auto; font-size: 0.8rem; }
"""

# Marks the page for automated checks: data-images-ok once every image decoded, data-errors
# counts script or resource errors (images that fail to load included).
_HEAD_SCRIPT = """
window.addEventListener("error", function () {
  var root = document.documentElement;
  root.dataset.errors = String(Number(root.dataset.errors || 0) + 1);
}, true);
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var ok = images.every(function (img) { return img.complete && img.naturalWidth > 0; });
  document.body.dataset.imagesOk = ok ? "true" : "false";
  document.body.dataset.imageCount = String(images.length);
});
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _badge(status: str) -> str:
    colour = _BADGE_COLOURS.get(status, "#6b7280")
    return f'<span class="badge" style="background:{colour}">{_e(status)}</span>'


def _html_table(columns: Sequence[Any], rows: Sequence[Sequence[Any]]) -> str:
    """A table; columns whose name mentions "paper" are shaded so ours and theirs stand apart."""
    paper = ["paper" in str(c).lower() for c in columns]
    paper_class = ' class="paper"'
    head = "".join(
        f"<th{paper_class if p else ''}>{_e(c)}</th>" for c, p in zip(columns, paper, strict=True)
    )
    body = []
    for row in rows:
        cells = list(row) + [""] * (len(columns) - len(row))
        tds = []
        for i, value in enumerate(cells):
            klass = paper_class if i < len(paper) and paper[i] else ""
            tds.append(f"<td{klass}>{_e(format_cell(value))}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _html_figure(folder: Path, figure: Figure) -> str:
    full, problem = _figure_file(folder, figure)
    if full is None:
        return (
            f'<p class="missing">Figure not shown ({_e(problem)}): <code>{_e(figure.path)}'
            f"</code> — {_e(figure.caption)}</p>"
        )
    payload = base64.b64encode(full.read_bytes()).decode("ascii")
    uri = f"data:{_MIME[full.suffix.lower()]};base64,{payload}"
    return (
        f'<figure><img src="{uri}" alt="{_e(figure.caption)}">'
        f"<figcaption>{_e(figure.caption)}</figcaption></figure>"
    )


def _html_result(folder: Path, result: ExperimentResult, anchor: str) -> str:
    status = overall_status(result)
    parts = [
        f'<section id="{anchor}">',
        f"<h2>{_e(result.title)}</h2>",
        f'<p class="meta"><code>{_e(result.name)}</code> · {_e(result.paper_ref)} · '
        f"{_badge(status)} · wall time {_e(_wall_time(result.wall_time_s))}</p>",
    ]
    if result.skipped_reason:
        parts.append(
            f'<p class="skipped"><strong>Skipped:</strong> {_e(result.skipped_reason)}</p>'
        )
    if result.verdicts:
        items = "".join(
            f"<li>{_badge(v.status)} <strong>{_e(v.claim)}</strong>: {_e(v.detail)}</li>"
            for v in result.verdicts
        )
        parts.append(f'<h3>Verdicts</h3><ul class="verdicts">{items}</ul>')
    for table in result.tables:
        parts.append(_html_table_block(table))
    parts += [_html_figure(folder, f) for f in result.figures]
    if result.config:
        config = json.dumps(dict(result.config), indent=2, default=str)
        parts.append(f"<details><summary>Configuration</summary><pre>{_e(config)}</pre></details>")
    parts.append("</section>")
    return "\n".join(parts)


def _html_table_block(table: Table) -> str:
    note = f'<p class="note">{_e(table.note)}</p>' if table.note else ""
    return f"<h3>{_e(table.title)}</h3>{_html_table(table.columns, table.rows)}{note}"


def render_html(
    folder: Path | str,
    results: Sequence[ExperimentResult],
    manifest: Mapping[str, Any],
    *,
    title: str = DEFAULT_TITLE,
    pending: Sequence[str] = (),
) -> str:
    """The report as one self-contained HTML page (figures embedded as base64 data URIs).

    Args:
        folder: the run folder (figures are read from it; missing ones are named, not embedded).
        results: the experiments' results, in report order.
        manifest: the run's manifest (versions, seed, config, git commit, machine).
        title: the page title.
        pending: names of experiments the run asked for that have no result (interrupted run).

    Returns:
        The HTML text.
    """
    path, results, manifest = _check_inputs(folder, results, manifest)
    anchors = _unique_anchors([r.name for r in results])
    summary_rows = [
        (
            f'<a href="#{a}">{_e(r.title)}</a>',
            _e(r.paper_ref),
            _badge(overall_status(r)),
            _e(_verdict_counts(r)),
            _e(_wall_time(r.wall_time_s)),
        )
        for r, a in zip(results, anchors, strict=True)
    ] + [(_e(name), "", _badge("not finished"), "", "–") for name in pending]
    created = manifest.get("created")
    body = [f"<h1>{_e(title)}</h1>"]
    if created:
        body.append(f'<p class="meta">Created {_e(created)} · the manifest is at the end.</p>')
    body += ["<h2>Summary</h2>", _summary_table(summary_rows)]
    body += [_html_result(path, r, a) for r, a in zip(results, anchors, strict=True)]
    body.append(_html_manifest(manifest))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n"
        f"<script>{_HEAD_SCRIPT}</script>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _summary_table(rows: Sequence[Sequence[str]]) -> str:
    """The summary table, whose cells are markup built (and escaped) by the caller."""
    head = "".join(
        f"<th>{c}</th>" for c in ("Experiment", "Paper", "Status", "Verdicts", "Wall time")
    )
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _unique_anchors(names: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    anchors = []
    for name in names:
        base = "exp-" + _slug(name)
        seen[base] = seen.get(base, 0) + 1
        anchors.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return anchors


def _html_manifest(manifest: Mapping[str, Any]) -> str:
    parts = [
        '<section id="manifest">',
        "<h2>Manifest</h2>",
        _html_table(("Field", "Value"), _manifest_fields(manifest)),
    ]
    packages = manifest.get("packages") or {}
    if isinstance(packages, Mapping) and packages:
        parts += [
            "<h3>Package versions</h3>",
            _html_table(("Package", "Version"), sorted(packages.items())),
        ]
    if manifest.get("config") is not None:
        config = json.dumps(manifest.get("config"), indent=2, default=str)
        parts += ["<h3>Run configuration</h3>", f"<pre>{_e(config)}</pre>"]
    parts.append("</section>")
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# writing and rebuilding


def build_report(
    folder: Path | str,
    results: Sequence[ExperimentResult],
    manifest: Mapping[str, Any],
    *,
    title: str = DEFAULT_TITLE,
    pending: Sequence[str] = (),
) -> list[Path]:
    """Write ``report.md`` and ``report.html`` into the run folder (atomically).

    Args:
        folder: the run folder; figure paths in ``results`` are relative to it.
        results: the experiments' results, in report order.
        manifest: the run's manifest (versions, seed, config, git commit, machine).
        title: the report's title.
        pending: names of experiments the run asked for that have no result (interrupted run).

    Returns:
        The paths written: ``[folder/report.md, folder/report.html]``.

    Example:
        >>> import tempfile
        >>> from relreps.results import ExperimentResult
        >>> result = ExperimentResult("demo", "Demo", "paper 5.2", {"quick": True})
        >>> [p.name for p in build_report(tempfile.mkdtemp(), [result], {"seed": 0})]
        ['report.md', 'report.html']
    """
    if not isinstance(title, str):
        raise fail("title", "a str", type(title).__name__, TypeError)
    if isinstance(pending, str) or not all(isinstance(p, str) for p in pending):
        raise fail("pending", "a list of experiment names", repr(pending), TypeError)
    path, checked, manifest = _check_inputs(folder, results, manifest)
    markdown = render_markdown(path, checked, manifest, title=title, pending=pending)
    page = render_html(path, checked, manifest, title=title, pending=pending)
    md_path, html_path = path / "report.md", path / "report.html"
    atomic_write_text(md_path, markdown)
    atomic_write_text(html_path, page)
    return [md_path, html_path]


def rebuild_report(folder: Path | str, *, title: str = DEFAULT_TITLE) -> list[Path]:
    """Re-render a run folder's report from ``manifest.json`` and ``results/*.json``.

    Experiments the run listed but never finished appear as "not finished".

    Args:
        folder: the run folder.
        title: the report's title.

    Returns:
        The paths written: ``[folder/report.md, folder/report.html]``.

    Raises:
        RunFolderError: when the folder has no readable manifest or a result file is corrupt.

    Example:
        >>> import json, pathlib, tempfile
        >>> run = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (run / "manifest.json").write_text(json.dumps({"config": {"experiments": ["x"]}}))
        >>> [p.name for p in rebuild_report(run)]
        ['report.md', 'report.html']
    """
    manifest, results, pending = load_run(folder)
    return build_report(folder, results, manifest, title=title, pending=pending)
