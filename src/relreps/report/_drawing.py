"""What every report figure shares: the Agg canvas, the atomic PNG write and the input checks.

Matplotlib is imported only inside these functions, so importing the figure modules stays light.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from relreps._array import to_numpy
from relreps._io import atomic_write_bytes
from relreps._validation import check_matrix, fail
from relreps.results import Figure

_DPI = 110


def _matplotlib() -> tuple[Any, Any]:
    """The matplotlib ``Figure`` class and the Agg canvas, or an ImportError naming the extra."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure as MplFigure
    except ImportError as err:  # pragma: no cover - matplotlib is installed in development
        raise ImportError(
            "relreps report figures need matplotlib: pip install 'relreps[plot]'"
        ) from err
    return MplFigure, FigureCanvasAgg


def _new_figure(width: float, height: float) -> Any:
    mpl_figure, canvas = _matplotlib()
    figure = mpl_figure(figsize=(width, height), dpi=_DPI, layout="constrained")
    canvas(figure)
    return figure


def _resolve(path: Path | str, root: Path | str | None) -> tuple[Path, str]:
    """Where to write the PNG and the path to record in the ``Figure``."""
    if not isinstance(path, str | Path):
        raise fail("path", "a str or pathlib.Path", type(path).__name__, TypeError)
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise fail("path", "a file name ending in .png", repr(str(path)))
    if root is None:
        return target, target.as_posix()
    base = Path(root)
    full = target if target.is_absolute() else base / target
    try:
        relative = full.resolve().relative_to(base.resolve())
    except ValueError:
        raise fail("path", f"inside `root` ({str(base)!r})", repr(str(path))) from None
    return full, relative.as_posix()


def _save(figure: Any, path: Path | str, root: Path | str | None, caption: str) -> Figure:
    full, recorded = _resolve(path, root)
    buffer = io.BytesIO()
    # No "Software" stamp, so the same inputs give the same bytes.
    figure.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    atomic_write_bytes(full, buffer.getvalue())
    return Figure(path=recorded, caption=caption)


def _check_caption(caption: str | None, default: str) -> str:
    if caption is None:
        return default
    if not isinstance(caption, str):
        raise fail("caption", "a str or None", type(caption).__name__, TypeError)
    return caption


def _check_spaces(spaces: object, name: str) -> dict[str, np.ndarray]:
    if not isinstance(spaces, Mapping) or len(spaces) == 0:
        got = f"{len(spaces)} entries" if isinstance(spaces, Mapping) else type(spaces).__name__
        raise fail(name, "a non-empty dict of model name -> 2-D array", got, TypeError)
    checked = {}
    for key, value in spaces.items():
        label = f"{name}[{key!r}]"
        checked[str(key)] = np.asarray(to_numpy(check_matrix(value, label)), dtype=np.float64)
    return checked


def _check_vector(values: object, name: str, length: int | None = None) -> np.ndarray:
    arr = np.asarray(to_numpy(values) if hasattr(values, "__array_namespace__") else values)
    if arr.ndim != 1:
        raise fail(name, "a 1-D array", f"shape {arr.shape}")
    if length is not None and arr.shape[0] != length:
        raise fail(name, f"a 1-D array of length {length}", f"length {arr.shape[0]}")
    return arr


def _check_numeric_vector(
    values: object, name: str, length: int | None = None, *, allow_nan: bool = False
) -> np.ndarray:
    arr = _check_vector(values, name, length)
    if arr.dtype.kind not in "biuf":
        raise fail(name, "a numeric 1-D array", f"dtype {arr.dtype}", TypeError)
    arr = arr.astype(np.float64)
    bad = np.isinf(arr) if allow_nan else ~np.isfinite(arr)
    if bad.any():
        what = "finite values or NaN" if allow_nan else "finite values"
        raise fail(name, f"an array of {what}", f"a non-finite value at index {int(bad.argmax())}")
    return arr


def _category_colours(labels: np.ndarray) -> tuple[np.ndarray, list[Any], list[Any]]:
    """Integer codes, the distinct labels in order, and one RGBA colour per distinct label."""
    from matplotlib import colormaps

    distinct, codes = np.unique(labels, return_inverse=True)
    n = len(distinct)
    if n <= 10:
        colours = [colormaps["tab10"](i) for i in range(n)]
    elif n <= 20:
        colours = [colormaps["tab20"](i) for i in range(n)]
    else:
        colours = [colormaps["turbo"](i / max(n - 1, 1)) for i in range(n)]
    return codes, list(distinct), colours
