"""Reports: markdown + self-contained HTML from typed results, the figures in them, and one real
render of the HTML page in headless Chromium."""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import re
import shutil
import struct
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest

from relreps import relative_projection
from relreps.experiments.base import ExperimentResult, Figure, Table, Verdict
from relreps.report import (
    RunFolderError,
    bar_chart,
    build_report,
    format_cell,
    image_grid,
    line_plot,
    load_run,
    overall_status,
    rebuild_report,
    render_html,
    scatter_plot,
    shared_pca_2d,
    space_views,
    stitching_heatmaps,
)

CHROMIUM = "/usr/bin/chromium"
HOSTILE = "<script>alert('x')</script> & | pipes"
MANIFEST = {
    "relreps_version": "0.1.0",
    "packages": {"numpy": "2.4.0", "matplotlib": "3.10.0"},
    "python": "3.11.2",
    "config": {"experiments": ["vision-stitching", "word-embeddings"], "quick": True, "seed": 7},
    "seed": 7,
    "git_commit": "0123456789abcdef0123456789abcdef01234567",
    "machine": {"platform": "Linux-test", "processor": "x86_64", "cpus": 2},
    "created": "2026-01-01T00:00:00Z",
}


# ---------------------------------------------------------------------------------------------
# helpers


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; fails unless the file is a PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


class BalanceChecker(HTMLParser):
    """Records tag nesting errors: every non-void element must be closed in order."""

    VOID = frozenset(
        {
            "area",
            "base",
            "br",
            "col",
            "embed",
            "hr",
            "img",
            "input",
            "link",
            "meta",
            "source",
            "track",
            "wbr",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.scripts = 0
        self.text: list[str] = []
        self.ids: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img":
            self.images.append(values)
        if tag == "script":
            self.scripts += 1
        if values.get("id"):
            self.ids.append(str(values["id"]))
        if tag == "a" and values.get("href"):
            self.hrefs.append(str(values["href"]))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.errors.append(f"self-closed non-void <{tag}/>")
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            self.errors.append(f"end tag for void <{tag}>")
        elif not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(page: str) -> BalanceChecker:
    checker = BalanceChecker()
    checker.feed(page)
    checker.close()
    return checker


def markdown_images(text: str) -> list[str]:
    return [unquote(m) for m in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text)]


def synthetic_spaces(seed: int = 0) -> tuple[dict, dict, np.ndarray]:
    """Two seeds of one 'model' (a rotation and rescale apart) plus a wider third model."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 5, 300)
    x = rng.normal(size=(5, 12))[labels] * 3 + rng.normal(size=(300, 12))
    rotation, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    spaces = {
        "mlp seed 0": x,
        "mlp seed 1": 2.0 * x @ rotation,
        "cnn seed 0": x @ rng.normal(size=(12, 20)),
    }
    anchors = rng.choice(300, 40, replace=False)
    rel = {k: np.asarray(relative_projection(v, v[anchors])) for k, v in spaces.items()}
    return spaces, rel, labels


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[ExperimentResult]]:
    """A run folder with real figures, a full result (NaN cells, hostile text) and a skipped one."""
    folder = tmp_path_factory.mktemp("run")
    spaces, rel, labels = synthetic_spaces()
    views = space_views(spaces, rel, labels, "figures/space views.png", root=folder)
    names = ["mlp-0", "mlp-1", "cnn-0"]
    absolute = np.array([[91.0, 10.5, np.nan], [11.0, 90.5, np.nan], [np.nan, np.nan, 89.0]])
    relative = np.array([[88.0, 85.5, 84.0], [86.0, 88.5, 83.0], [84.5, 83.0, 87.0]])
    heatmaps = stitching_heatmaps(
        {"absolute": absolute, "relative": relative},
        names,
        names,
        folder / "figures" / "stitching.png",
        "weighted F1 x100",
        root=folder,
    )
    full = ExperimentResult(
        name="vision-stitching",
        title="Vision stitching " + HOSTILE,
        paper_ref="paper 5.2",
        config={"quick": True, "seeds": 3, "note": HOSTILE},
        tables=(
            Table(
                title="Stitching, weighted F1 x100",
                columns=("setting", "ours", "paper"),
                rows=(
                    ("absolute, stitched", 10.75, 21.51),
                    ("relative, stitched", 84.6667, None),
                    ("translation, stitched", float("nan"), None),
                ),
                note="mean over 3 seeds; " + HOSTILE,
            ),
        ),
        figures=(views, heatmaps),
        verdicts=(
            Verdict("relative stitched close to not stitched", "reproduced", "84.7 vs 88.0"),
            Verdict("absolute stitched near chance", "partly", "10.8 vs 10 (chance)"),
            Verdict(HOSTILE, "not reproduced", HOSTILE),
        ),
        data={"absolute": absolute.tolist()},
        wall_time_s=75.25,
    )
    skipped = ExperimentResult(
        name="word-embeddings",
        title="Word embeddings",
        paper_ref="paper 5.1",
        config={"quick": True},
        skipped_reason="GCIDE is missing (install: apt-get install dict-gcide)",
    )
    return folder, [full, skipped]


@pytest.fixture(scope="module")
def built(run: tuple[Path, list[ExperimentResult]]) -> tuple[Path, str, str]:
    folder, results = run
    paths = build_report(folder, results, MANIFEST, title="Quick run of relreps")
    assert paths == [folder / "report.md", folder / "report.html"]
    return folder, paths[0].read_text("utf-8"), paths[1].read_text("utf-8")


# ---------------------------------------------------------------------------------------------
# markdown


def test_markdown_holds_tables_verdicts_skips_and_manifest(built: tuple[Path, str, str]) -> None:
    _, md, _ = built
    assert md.startswith("# Quick run of relreps\n")
    assert "| absolute, stitched | 10.75 | 21.51 |" in md  # ours beside the paper's number
    assert "| relative, stitched | 84.67 | – |" in md  # None -> dash
    assert "| translation, stitched | – | – |" in md  # NaN -> dash
    assert "**Skipped:** GCIDE is missing (install: apt-get install dict-gcide)" in md
    assert "| Word embeddings | paper 5.1 | skipped |" in md
    assert "**partly**" in md  # overall status of the mixed verdicts
    assert "1 min 15 s" in md
    assert MANIFEST["git_commit"] in md
    assert "| numpy | 2.4.0 |" in md
    assert "| machine cpus | 2 |" in md
    # Text from results is never raw HTML in markdown, and pipes do not break table rows.
    # (Inside fenced JSON blocks text is literal, so only the prose is checked.)
    prose = re.sub(r"```json\n.*?\n```", "", md, flags=re.S)
    assert "```json" in md and "<script>" not in prose
    assert "&lt;script&gt;alert('x')&lt;/script&gt; &amp; \\| pipes" in md


def test_markdown_figures_exist(built: tuple[Path, str, str]) -> None:
    folder, md, _ = built
    linked = markdown_images(md)
    assert linked == ["figures/space views.png", "figures/stitching.png"]
    for relative in linked:
        assert (folder / relative).is_file()
        width, height = png_size(folder / relative)
        assert width > 300 and height > 200


# ---------------------------------------------------------------------------------------------
# HTML


def test_html_is_well_formed_and_self_contained(built: tuple[Path, str, str]) -> None:
    folder, _, page = built
    parsed = parse_html(page)
    assert parsed.errors == []
    assert parsed.stack == []
    assert page.startswith("<!DOCTYPE html>")
    # Every image is embedded, and is byte for byte the figure file.
    assert len(parsed.images) == 2
    for img, relative in zip(
        parsed.images, ["figures/space views.png", "figures/stitching.png"], strict=True
    ):
        src = str(img["src"])
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]) == (folder / relative).read_bytes()
        assert img["alt"]
    # Only our own check script runs; text from results is escaped.
    assert parsed.scripts == 1
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; | pipes" in page
    text = "".join(parsed.text)
    for expected in (
        "reproduced",
        "partly",
        "not reproduced",
        "skipped",
        "GCIDE is missing",
        "21.51",
        MANIFEST["git_commit"],
        "Linux-test",
        "1 min 15 s",
    ):
        assert expected in text
    # The summary links resolve to sections.
    assert parsed.hrefs and all(h.lstrip("#") in parsed.ids for h in parsed.hrefs)


def test_html_marks_paper_columns(built: tuple[Path, str, str]) -> None:
    _, _, page = built
    assert '<th class="paper">paper</th>' in page
    assert '<td class="paper">21.51</td>' in page


@pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"
)
def test_html_renders_in_headless_chromium(built: tuple[Path, str, str], tmp_path: Path) -> None:
    folder, _, _ = built
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--dump-dom",
        (folder / "report.html").resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=50, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert "<title>Quick run of relreps</title>" in dom
    assert 'data-images-ok="true"' in dom, "an embedded figure did not decode"
    assert 'data-image-count="2"' in dom
    assert "data-errors=" not in dom, "the page raised a script or resource error"


# ---------------------------------------------------------------------------------------------
# rebuild from disk


def write_run(folder: Path, results: list[ExperimentResult], manifest: dict) -> None:
    (folder / "results").mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    for result in results:
        (folder / "results" / f"{result.name}.json").write_text(result.to_json(), "utf-8")


def test_rebuild_reproduces_the_report(
    built: tuple[Path, str, str], tmp_path: Path, run: tuple[Path, list[ExperimentResult]]
) -> None:
    folder, md, page = built
    _, results = run
    copy = tmp_path / "copy"
    shutil.copytree(folder / "figures", copy / "figures")
    write_run(copy, results, MANIFEST)
    paths = rebuild_report(copy, title="Quick run of relreps")
    # JSON turned NaN into null and tuples into lists: the report must not change.
    assert paths[0].read_text("utf-8") == md
    assert paths[1].read_text("utf-8") == page


def test_rebuild_orders_like_the_run_and_names_unfinished(tmp_path: Path) -> None:
    results = [ExperimentResult(n, n.upper(), "paper", {}) for n in ("a", "b", "extra")]
    manifest = {"config": {"experiments": ["b", "a", "missing"]}}
    write_run(tmp_path, results, manifest)
    _, loaded, pending = load_run(tmp_path)
    assert [r.name for r in loaded] == ["b", "a", "extra"]
    assert pending == ["missing"]
    md = rebuild_report(tmp_path)[0].read_text("utf-8")
    assert md.index("## B") < md.index("## A") < md.index("## EXTRA")
    assert "| missing |  | not finished |" in md


def test_rebuild_errors(tmp_path: Path) -> None:
    with pytest.raises(RunFolderError, match=r"no manifest\.json"):
        rebuild_report(tmp_path)
    (tmp_path / "manifest.json").write_text("[1, 2]", "utf-8")
    with pytest.raises(RunFolderError, match="to hold a JSON object"):
        rebuild_report(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json", "utf-8")
    with pytest.raises(RunFolderError, match="readable JSON manifest file"):
        rebuild_report(tmp_path)
    write_run(tmp_path, [], {"config": {}})
    (tmp_path / "results" / "bad.json").write_text('{"name": "x"', "utf-8")
    with pytest.raises(RunFolderError, match=r"bad\.json' to be a readable JSON result file"):
        rebuild_report(tmp_path)
    (tmp_path / "results" / "bad.json").write_text('{"name": "x"}', "utf-8")
    with pytest.raises(RunFolderError, match="to hold an experiment result"):
        rebuild_report(tmp_path)
    with pytest.raises(TypeError, match=r"Expected `folder` to be a str or pathlib\.Path"):
        load_run(3)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# build_report inputs and edge cases


def test_missing_and_escaping_figures_are_named_not_linked(tmp_path: Path) -> None:
    outside = tmp_path.parent / "outside.png"
    result = ExperimentResult(
        "x",
        "X",
        "paper",
        {},
        figures=(
            Figure("figures/absent.png", "gone"),
            Figure("../outside.png", "sneaky"),
            Figure(str(outside), "absolute"),
            Figure("notes.txt", "text"),
        ),
    )
    (tmp_path / "notes.txt").write_text("hi", "utf-8")
    md_path, html_path = build_report(tmp_path, [result], {})
    md, page = md_path.read_text("utf-8"), html_path.read_text("utf-8")
    assert markdown_images(md) == []
    assert "Figure not shown (file missing): `figures/absent.png`" in md
    assert md.count("Figure not shown (outside the run folder)") == 2
    assert "unsupported image type '.txt'" in md
    assert parse_html(page).images == []
    assert page.count('class="missing"') == 4


def test_build_report_is_atomic_and_overwrites(tmp_path: Path) -> None:
    result = ExperimentResult("x", "First", "paper", {})
    build_report(tmp_path, [result], {})
    build_report(tmp_path, [dataclasses.replace(result, title="Second")], {})
    assert "Second" in (tmp_path / "report.md").read_text("utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.md"]


def test_build_report_errors(tmp_path: Path) -> None:
    good = ExperimentResult("x", "X", "paper", {})
    with pytest.raises(RunFolderError, match="existing run folder"):
        build_report(tmp_path / "nope", [good], {})
    with pytest.raises(TypeError, match=r"`results\[1\]` to be an ExperimentResult"):
        build_report(tmp_path, [good, {"name": "x"}], {})  # type: ignore[list-item]
    with pytest.raises(TypeError, match="`results` to be a list of ExperimentResult"):
        build_report(tmp_path, good, {})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`manifest` to be a dict"):
        build_report(tmp_path, [good], [])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`title` to be a str"):
        build_report(tmp_path, [good], {}, title=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`pending` to be a list of experiment names"):
        build_report(tmp_path, [good], {}, pending="abc")
    with pytest.raises(TypeError, match=r"`folder` to be a str or pathlib\.Path"):
        render_html(1, [good], {})  # type: ignore[arg-type]
    assert not (tmp_path / "report.md").exists()


def test_overall_status_and_cells() -> None:
    def result(*statuses: str, skipped: str | None = None) -> ExperimentResult:
        verdicts = tuple(Verdict("c", s, "d") for s in statuses)  # type: ignore[arg-type]
        return ExperimentResult("x", "X", "p", {}, verdicts=verdicts, skipped_reason=skipped)

    assert overall_status(result("reproduced", "reproduced")) == "reproduced"
    assert overall_status(result("not reproduced")) == "not reproduced"
    assert overall_status(result("reproduced", "not reproduced")) == "partly"
    assert overall_status(result("partly", "no paper number")) == "partly"
    assert overall_status(result("no paper number")) == "no paper number"
    assert overall_status(result()) == "no verdict"
    assert overall_status(result("reproduced", skipped="no data")) == "skipped"
    assert format_cell(np.float32(0.5)) == "0.5"
    assert format_cell(np.int64(7)) == "7"
    assert format_cell(float("inf")) == "–"
    assert format_cell(0.0) == "0"
    assert format_cell(-0.00012) == "-1.20e-04"
    assert format_cell(True) == "True"


# ---------------------------------------------------------------------------------------------
# figures


def test_shared_pca_matches_sklearn_and_exposes_rotation() -> None:
    from sklearn.decomposition import PCA

    spaces, rel, _ = synthetic_spaces(seed=3)
    x = spaces["mlp seed 0"]
    ours = shared_pca_2d({"a": x})["a"]
    reference = PCA(n_components=2).fit_transform(x)
    signs = np.sign(np.sum(ours * reference, axis=0))
    np.testing.assert_allclose(ours * signs, reference, atol=1e-8)
    # Absolute spaces of two seeds differ by a rotation: in the first one's axes they disagree...
    absolute = shared_pca_2d({k: spaces[k] for k in ("mlp seed 0", "mlp seed 1")})
    assert not np.allclose(absolute["mlp seed 1"], 2.0 * absolute["mlp seed 0"], atol=1e-3)
    # ...while their relative spaces coincide exactly (cosine is rotation and scale invariant).
    relative = shared_pca_2d(rel)
    np.testing.assert_allclose(relative["mlp seed 1"], relative["mlp seed 0"], atol=1e-8)
    fitted_on_second = shared_pca_2d(rel, fit_on="mlp seed 1")
    np.testing.assert_allclose(
        np.abs(fitted_on_second["mlp seed 0"]), np.abs(relative["mlp seed 0"]), atol=1e-6
    )
    with pytest.raises(ValueError, match="Expected `fit_on` to be one of"):
        shared_pca_2d(rel, fit_on="nope")
    with pytest.raises(ValueError, match="`spaces` to have 12 features like 'a'"):
        shared_pca_2d({"a": x, "b": spaces["cnn seed 0"]})
    with pytest.raises(TypeError, match="`spaces` to be a non-empty dict"):
        shared_pca_2d({})


def test_space_views_writes_a_png_relative_to_the_run(tmp_path: Path) -> None:
    spaces, rel, labels = synthetic_spaces()
    two = {k: spaces[k] for k in ("mlp seed 0", "mlp seed 1")}
    two_rel = {k: rel[k] for k in two}
    figure = space_views(
        two,
        two_rel,
        labels,
        tmp_path / "figures" / "v.png",
        root=tmp_path,
        max_points=100,
        caption="seeds",
    )
    assert figure == Figure("figures/v.png", "seeds")
    assert png_size(tmp_path / "figures" / "v.png")[0] > 300
    # Same inputs, same bytes (no timestamps in the PNG).
    again = space_views(two, two_rel, labels, "figures/w.png", root=tmp_path, max_points=100)
    assert (tmp_path / again.path).read_bytes() == (tmp_path / "figures" / "v.png").read_bytes()
    free = space_views(two, two_rel, [str(v) for v in labels], tmp_path / "free.png")
    assert free.path == (tmp_path / "free.png").as_posix()


def test_space_views_errors(tmp_path: Path) -> None:
    spaces, rel, labels = synthetic_spaces()
    one = {"a": spaces["mlp seed 0"]}
    with pytest.raises(ValueError, match="`abs_spaces` to be a dict of two or more models"):
        space_views(one, {"a": rel["mlp seed 0"]}, labels, "v.png", root=tmp_path)
    with pytest.raises(ValueError, match="`rel_spaces` to be keyed by the same models"):
        space_views(spaces, {"a": rel["mlp seed 0"]}, labels, "v.png", root=tmp_path)
    short = dict(spaces, **{"cnn seed 0": spaces["cnn seed 0"][:10]})
    with pytest.raises(ValueError, match=r"same 300 samples.*`abs_spaces\['cnn seed 0'\]`"):
        space_views(short, rel, labels, "v.png", root=tmp_path)
    uneven = dict(rel, **{"cnn seed 0": rel["cnn seed 0"][:, :5]})
    with pytest.raises(ValueError, match="`rel_spaces` to have 40 features"):
        space_views(spaces, uneven, labels, "v.png", root=tmp_path)
    with pytest.raises(ValueError, match="`labels` to be a 1-D array of length 300"):
        space_views(spaces, rel, labels[:5], "v.png", root=tmp_path)
    with pytest.raises(ValueError, match=r"`path` to be a file name ending in \.png"):
        space_views(spaces, rel, labels, "v.svg", root=tmp_path)
    with pytest.raises(ValueError, match="`path` to be inside `root`"):
        space_views(spaces, rel, labels, "../v.png", root=tmp_path)
    with pytest.raises(TypeError, match=r"`path` to be a str or pathlib\.Path"):
        space_views(spaces, rel, labels, 3, root=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`max_points` to be an int in"):
        space_views(spaces, rel, labels, "v.png", root=tmp_path, max_points=0)
    bad = dict(spaces, **{"mlp seed 0": np.full((300, 12), np.nan)})
    with pytest.raises(ValueError, match=r"`abs_spaces\['mlp seed 0'\]` to contain only finite"):
        space_views(bad, rel, labels, "v.png", root=tmp_path)
    with pytest.raises(TypeError, match="`caption` to be a str or None"):
        space_views(spaces, rel, labels, "v.png", root=tmp_path, caption=1)  # type: ignore[arg-type]
    assert not any(tmp_path.iterdir())


def test_stitching_heatmaps_nan_cells_and_errors(tmp_path: Path) -> None:
    names = ["a", "b"]
    grid = {"absolute": [[90.0, np.nan], [np.nan, 88.0]], "relative": [[np.nan] * 2] * 2}
    figure = stitching_heatmaps(grid, names, names, "h.png", "F1", root=tmp_path)
    assert figure.path == "h.png" and "Outlined cells are not stitched" in figure.caption
    assert png_size(tmp_path / "h.png")[0] > 200
    shape_error = r"`matrices\['absolute'\]` to be an array of shape \(2, 3\)"
    with pytest.raises(ValueError, match=shape_error):
        stitching_heatmaps(grid, names, ["a", "b", "c"], "h.png", "F1", root=tmp_path)
    with pytest.raises(ValueError, match="finite values or NaN"):
        stitching_heatmaps({"x": [[np.inf, 1.0], [1.0, 1.0]]}, names, names, "h.png", "F1")
    with pytest.raises(TypeError, match="`matrices` to be a non-empty dict"):
        stitching_heatmaps({}, names, names, "h.png", "F1")
    with pytest.raises(TypeError, match="`encoders` to be a non-empty list of names"):
        stitching_heatmaps(grid, "ab", names, "h.png", "F1")
    with pytest.raises(TypeError, match="`value_label` to be a str"):
        stitching_heatmaps(grid, names, names, "h.png", 3)  # type: ignore[arg-type]


def test_line_and_scatter_plots(tmp_path: Path) -> None:
    x = [10, 30, 100, 300]
    figure = line_plot(
        x,
        {"uniform": [0.2, 0.3, np.nan, 0.38]},
        "l.png",
        errors={"uniform": [0.01, 0.02, 0.0, 0.01]},
        logx=True,
        title="anchors",
        root=tmp_path,
    )
    assert figure == Figure("l.png", "anchors") and png_size(tmp_path / "l.png")[0] > 200
    rng = np.random.default_rng(0)
    xs, ys = rng.random(20), rng.random(20)
    r = np.corrcoef(xs, ys)[0, 1]
    figure = scatter_plot(
        xs,
        ys,
        "s.png",
        groups=rng.integers(0, 3, 20),
        point_labels=[f"m{i}" for i in range(20)],
        title="sim",
        root=tmp_path,
    )
    assert figure.caption == f"sim (Pearson r = {r:.2f}, n = 20)"
    flat = scatter_plot([1.0, 2.0], [3.0, 3.0], "f.png", root=tmp_path)
    assert "Pearson r undefined" in flat.caption
    with pytest.raises(ValueError, match=r"`series\['u'\]` to be a 1-D array of length 4"):
        line_plot(x, {"u": [1.0]}, "l.png")
    with pytest.raises(ValueError, match="`errors` to be keyed by names in `series`"):
        line_plot(x, {"u": x}, "l.png", errors={"v": x})
    with pytest.raises(ValueError, match="non-negative half-widths"):
        line_plot(x, {"u": x}, "l.png", errors={"u": [-1, 0, 0, 0]})
    with pytest.raises(ValueError, match="`x` to be positive values when logx=True"):
        line_plot([0, 1, 2, 3], {"u": x}, "l.png", logx=True)
    with pytest.raises(ValueError, match="`x` to be an array of finite values"):
        line_plot([np.nan, 1, 2, 3], {"u": x}, "l.png")
    with pytest.raises(TypeError, match="`series` to be a non-empty dict"):
        line_plot(x, {}, "l.png")
    with pytest.raises(ValueError, match="`y` to be a 1-D array of length 20"):
        scatter_plot(xs, ys[:3], "s.png")
    with pytest.raises(ValueError, match="`groups` to be a 1-D array of length 20"):
        scatter_plot(xs, ys, "s.png", groups=[1, 2])
    with pytest.raises(TypeError, match="`x` to be a numeric 1-D array"):
        scatter_plot(["a", "b"], [1.0, 2.0], "s.png")


def test_bar_chart(tmp_path: Path) -> None:
    groups = {"words": [np.nan, 0.08, 0.17], "phrases": [0.0, 0.2, 0.4]}
    figure = bar_chart(
        ["abs", "rel", "centred"],
        groups,
        "b.png",
        errors={"words": [0.0, 0.01, 0.02]},
        reference={"words": 0.01, "phrases": 0.002},
        title="top-1",
        root=tmp_path,
    )
    assert figure == Figure("b.png", "top-1") and png_size(tmp_path / "b.png")[0] > 200
    with pytest.raises(TypeError, match="`categories` to be a sequence of str"):
        bar_chart("abc", groups, "b.png")
    with pytest.raises(ValueError, match="`categories` to be at least one category"):
        bar_chart([], groups, "b.png")
    with pytest.raises(TypeError, match="`groups` to be a non-empty dict"):
        bar_chart(["a", "b", "c"], {}, "b.png")
    with pytest.raises(ValueError, match=r"`groups\['words'\]` to be a 1-D array of length 2"):
        bar_chart(["a", "b"], groups, "b.png")
    with pytest.raises(ValueError, match="`errors` to be keyed by names in `groups`"):
        bar_chart(["a", "b", "c"], groups, "b.png", errors={"x": [0, 0, 0]})
    with pytest.raises(ValueError, match="non-negative half-widths"):
        bar_chart(["a", "b", "c"], groups, "b.png", errors={"words": [-1, 0, 0]})
    with pytest.raises(TypeError, match=r"`reference\['words'\]` to be a finite number"):
        bar_chart(["a", "b", "c"], groups, "b.png", reference={"words": np.nan})
    with pytest.raises(ValueError, match=r"`path` to be a file name ending in \.png"):
        bar_chart(["a", "b", "c"], groups, "b.jpg")


def test_image_grid(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    figure = image_grid(
        {
            "original": rng.random((5, 8, 8)),
            "rgb": rng.random((3, 8, 8, 3)),
            "uint8": rng.integers(0, 255, (20, 8, 8), dtype=np.uint8),
        },
        "g.png",
        max_cols=6,
        root=tmp_path,
    )
    assert figure == Figure("g.png", "Rows: original, rgb, uint8.")
    width, height = png_size(tmp_path / "g.png")
    assert width > height > 100
    with pytest.raises(ValueError, match=r"`rows\['a'\]` to be a non-empty array of shape"):
        image_grid({"a": rng.random((8, 8))}, "g.png")
    with pytest.raises(ValueError, match=r"`rows\['a'\]` to be finite pixel values"):
        image_grid({"a": np.full((1, 2, 2), np.nan)}, "g.png")
    with pytest.raises(TypeError, match="`rows` to be a non-empty dict"):
        image_grid({}, "g.png")
    with pytest.raises(ValueError, match="`max_cols` to be an int in"):
        image_grid({"a": rng.random((1, 2, 2))}, "g.png", max_cols=0)


def test_importing_the_report_stays_light() -> None:
    code = (
        "import sys, relreps.report; "
        "print(sorted(m for m in ('matplotlib', 'torch', 'sklearn') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def test_nan_in_results_survives_json_round_trip(run: tuple[Path, list[ExperimentResult]]) -> None:
    _, results = run
    data = json.loads(results[0].to_json())
    assert data["tables"][0]["rows"][2] == ["translation, stitched", None, None]
    assert math.isnan(results[0].tables[0].rows[2][1])
