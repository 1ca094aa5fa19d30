"""Shared input checks for every public function.

Every message has one shape, naming the argument, the expectation and what came:
``Expected `x` to be a 2-D array of shape (n_samples, n_features), but got shape (3,).``
Checks raise ``ValueError`` (bad values) or ``TypeError`` (bad types), never ``assert``.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable
from typing import Any, TypeVar

from relreps._array import Array, as_array, device_of, is_floating, namespace, to_numpy

_Choice = TypeVar("_Choice", bound=str)

__all__ = [
    "check_choice",
    "check_finite",
    "check_finite_anchors",
    "check_finite_rows",
    "check_float",
    "check_int",
    "check_matrix",
    "check_names",
    "check_out",
    "check_paired",
    "check_same_device",
    "check_same_features",
    "fail",
    "nonfinite_rows",
    "renamed_keyword",
]


def fail(name: str, expected: str, got: str, kind: type[Exception] = ValueError) -> Exception:
    """Build the standard error: ``Expected `name` to be <expected>, but got <got>.``"""
    return kind(f"Expected `{name}` to be {expected}, but got {got}.")


def check_matrix(
    x: object,
    name: str,
    *,
    shape_doc: str = "(n_samples, n_features)",
    min_rows: int = 1,
    finite: bool = True,
) -> Array:
    """Validate a 2-D numeric array; return it (array-likes become numpy arrays).

    Example:
        >>> check_matrix([[1.0, 2.0]], "x").shape
        (1, 2)
        >>> check_matrix([1.0, 2.0], "x", shape_doc="(n, d)")
        Traceback (most recent call last):
        ...
        ValueError: Expected `x` to be a 2-D array of shape (n, d), but got shape (2,).
    """
    arr = as_array(x, name)
    xp = namespace(**{name: arr})
    if arr.ndim != 2:
        raise fail(name, f"a 2-D array of shape {shape_doc}", f"shape {tuple(arr.shape)}")
    dtype = arr.dtype
    if not (is_floating(xp, dtype) or xp.isdtype(dtype, "integral") or dtype == xp.bool):
        raise fail(name, "a real numeric array", f"dtype {dtype}", TypeError)
    n_rows = arr.shape[0]
    if n_rows is not None and n_rows < min_rows:
        what = "row" if min_rows == 1 else "rows"
        raise fail(name, f"an array with at least {min_rows} {what}", f"shape {tuple(arr.shape)}")
    if arr.shape[1] == 0:
        raise fail(name, "an array with at least 1 feature", f"shape {tuple(arr.shape)}")
    if finite:
        check_finite(arr, name)
    return arr


def check_finite(x: Array, name: str) -> None:
    """Raise a ValueError naming the first row of ``x`` holding NaN or Inf.

    Lazy arrays (Dask) are not checked here: their blocks are checked when computed.
    """
    bad = nonfinite_rows(x)
    if bad is None or bad.size == 0:
        return
    raise ValueError(
        f"Expected `{name}` to contain only finite values, but row {int(bad[0])} holds NaN or Inf "
        f"({bad.size} bad row{'s' if bad.size != 1 else ''} in all)."
    )


def nonfinite_rows(x: Array) -> Any:
    """Indices (numpy int array) of the rows of ``x`` holding NaN or Inf; None when unchecked
    (non-floating or lazy arrays)."""
    xp = namespace(x=x)
    if not is_floating(xp, x.dtype) or _is_lazy(x):
        return None
    ok = xp.isfinite(x)
    if x.ndim > 1:
        ok = xp.all(ok, axis=tuple(range(1, x.ndim)))
    if bool(xp.all(ok)):
        return to_numpy(xp.zeros((0,), dtype=xp.int64)).nonzero()[0]
    return to_numpy(xp.logical_not(ok)).nonzero()[0]


def _is_lazy(x: Array) -> bool:
    return type(x).__module__.startswith("dask")


def check_finite_anchors(anchors: Array, xp: Any) -> None:
    """NaN/Inf check: one reduction (NaN and Inf propagate through a sum) in the common case,
    the row-by-row check for the message only when it is not finite. The anchors are re-embedded
    and projected every training step, where a full ``isfinite`` mask is a measurable cost."""
    if is_floating(xp, anchors.dtype) and bool(xp.isfinite(xp.sum(anchors))):
        return
    check_finite(anchors, "anchors")


def check_finite_rows(chunk: Array, norms: Array, start: int, xp: Any) -> None:
    """Reject NaN/Inf in rows ``start + i`` of ``x`` from their (n_rows,) norms, no full mask.

    A non-finite norm is NaN/Inf in the row or a squared norm that overflows the dtype; the
    message names the first such row of ``x`` and which of the two it is.
    """
    if bool(xp.all(xp.isfinite(norms))):
        return
    bad_rows = nonfinite_rows(chunk)
    if bad_rows is not None and bad_rows.size:
        raise ValueError(
            f"Expected `x` to contain only finite values, but row {start + int(bad_rows[0])} "
            "holds NaN or Inf."
        )
    bad = int(xp.argmax(xp.astype(xp.logical_not(xp.isfinite(norms)), xp.int32)))
    raise ValueError(
        f"Expected `x` rows with a representable norm, but row {start + bad} is so large that its "
        f"squared norm overflows {chunk.dtype}; rescale x (or use float64)."
    )


def check_same_features(x: Array, x_name: str, y: Array, y_name: str) -> None:
    """Both arrays must have the same number of columns; name both shapes otherwise."""
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"Expected `{x_name}` and `{y_name}` to have the same number of features, but "
            f"`{x_name}` has shape {tuple(x.shape)} and `{y_name}` has shape {tuple(y.shape)}."
        )


def check_same_device(x: Array, x_name: str, y: Array, y_name: str) -> None:
    """Both arrays must be on the same device; name both devices otherwise."""
    dx, dy = device_of(x), device_of(y)
    if str(dx) != str(dy):
        raise ValueError(
            f"Expected `{x_name}` and `{y_name}` to be on the same device, but `{x_name}` is on "
            f"{dx} and `{y_name}` is on {dy}."
        )


def check_out(out: Array, n_rows: int, n_columns: int, dtype: Any) -> None:
    """A preallocated result must have shape (n_rows, n_columns) and the result dtype."""
    if tuple(out.shape) != (n_rows, n_columns):
        raise fail("out", f"an array of shape ({n_rows}, {n_columns})", f"shape {tuple(out.shape)}")
    if out.dtype != dtype:
        raise fail(
            "out", f"an array of dtype {dtype} (the result dtype)", f"{out.dtype}", TypeError
        )


def check_paired(a: Array, a_name: str, b: Array, b_name: str) -> None:
    """Paired spaces must have the same number of rows (row i of each is the same sample)."""
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"Expected `{a_name}` and `{b_name}` to have the same number of rows (paired samples), "
            f"but `{a_name}` has shape {tuple(a.shape)} and `{b_name}` has shape {tuple(b.shape)}."
        )


def check_int(
    value: Any, name: str, *, low: int | None = None, high: int | None = None, hint: str = ""
) -> int:
    """Validate an integer parameter within ``[low, high]`` (either bound optional).

    Example:
        >>> check_int(3, "k", low=1, high=5)
        3
        >>> check_int(0, "k", low=1, high=5, hint="n_anchors")
        Traceback (most recent call last):
        ...
        ValueError: Expected `k` to be an int in [1, 5] (n_anchors), but got 0.
    """
    lo = "-inf" if low is None else str(low)
    hi = "inf" if high is None else str(high)
    span = f"an int in [{lo}, {hi}]" + (f" ({hint})" if hint else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise fail(name, span, f"{value!r} of type {type(value).__name__}", TypeError)
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise fail(name, span, repr(v))
    return v


def check_float(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
) -> float:
    """Validate a finite real parameter, optionally bounded (``low`` exclusive on request)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise fail(name, "a real number", f"{value!r} of type {type(value).__name__}", TypeError)
    v = float(value)
    bracket = "[" if low_inclusive else "("
    span = f"a finite number in {bracket}{low if low is not None else '-inf'}, "
    span += f"{high if high is not None else 'inf'}]"
    if v != v or v in (float("inf"), float("-inf")):
        raise fail(name, span, repr(value))
    if low is not None and (v < low or (not low_inclusive and v == low)):
        raise fail(name, span, repr(value))
    if high is not None and v > high:
        raise fail(name, span, repr(value))
    return v


def check_choice(value: object, name: str, options: Iterable[_Choice]) -> _Choice:
    """Validate a string option, listing the valid names otherwise.

    Generic in the options' type: assigned to a ``Literal`` variable, the options are checked
    against the literal and the result has its type (no cast needed).

    Example:
        >>> check_choice("sum", "aggregate", ["concat", "sum"])
        'sum'
    """
    valid = list(options)
    for option in valid:
        if isinstance(value, str) and value == option:
            return option
    raise fail(name, f"one of {valid}", repr(value))


def check_names(
    value: str | Iterable[str],
    name: str,
    options: Iterable[_Choice],
    *,
    allow_all: bool = False,
    sep: str = ",",
) -> tuple[_Choice, ...]:
    """Validate a list of option names typed by a user (a CLI flag such as ``--text-datasets``).

    ``value`` is one ``sep``-separated string or a sequence of strings; each part is stripped,
    empty parts are dropped, the order is kept and each remaining name must be one of
    ``options``. A name given twice is refused. With ``allow_all``, the single name ``"all"``
    means every option (in the options' order).

    Args:
        value: ``"a, b"`` or ``("a", "b")``; empty (``""``, ``()``) gives ``()``.
        name: the argument's name, for the messages.
        options: the valid names.
        allow_all: accept ``"all"`` alone for every option.
        sep: the separator of a string ``value``.

    Returns:
        The names, in the order given (each one the matching option).

    Raises:
        TypeError: ``value`` is neither a string nor an iterable of strings.
        ValueError: an unknown name, or a name given twice.

    Example:
        >>> check_names("trec, dbpedia14", "--text-datasets", ["trec", "dbpedia14", "ag_news"])
        ('trec', 'dbpedia14')
        >>> check_names(["all"], "--planetoid", ["Cora", "PubMed"], allow_all=True)
        ('Cora', 'PubMed')
        >>> check_names("fr,fr", "--amazon-languages", ["de", "fr"])
        Traceback (most recent call last):
        ...
        ValueError: Expected `--amazon-languages` to be distinct names, but got 'fr' twice.
    """
    valid = list(options)
    if not isinstance(value, str | Iterable):
        raise fail(name, "a string or a sequence of strings", repr(value), TypeError)
    parts: list[object] = list(value.split(sep) if isinstance(value, str) else value)
    wanted: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise fail(name, "a sequence of strings", f"{part!r} in it", TypeError)
        if part.strip():
            wanted.append(part.strip())
    if allow_all and wanted == ["all"]:
        return tuple(valid)
    names = tuple(check_choice(part, name, valid) for part in wanted)
    for i, chosen in enumerate(names):
        if chosen in names[:i]:
            raise fail(name, "distinct names", f"{chosen!r} twice")
    return names


def renamed_keyword(
    new_value: Any, old_value: Any, *, new: str, old: str, where: str, default: Any = None
) -> Any:
    """Resolve a keyword renamed from ``old`` to ``new``, keeping ``old`` as a deprecated alias.

    ``old_value`` is what the caller passed under the old name (``default`` when it was not
    passed). Passing it warns with a ``DeprecationWarning`` pointing at the caller of ``where``;
    passing both names is an error. Only functions whose old keyword was documented keep an alias.

    Args:
        new_value: the value under the new name (``default`` when not passed).
        old_value: the value under the old name (``default`` when not passed).
        new: the new keyword's name, e.g. ``"chunk_size"``.
        old: the old keyword's name, e.g. ``"block_size"``.
        where: the public function's name, for the messages.
        default: the value both keywords default to.

    Returns:
        The value to use.

    Example:
        >>> import warnings
        >>> renamed_keyword(None, None, new="chunk_size", old="block_size", where="knn")
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     renamed_keyword(None, 64, new="chunk_size", old="block_size", where="knn")
        64
        >>> caught[0].category.__name__
        'DeprecationWarning'
    """
    if old_value is default:
        return new_value
    if new_value is not default:
        raise TypeError(
            f"Expected only one of `{new}` and its deprecated alias `{old}` in {where}(), "
            f"but got {new}={new_value!r} and {old}={old_value!r}."
        )
    # stacklevel 3: this helper, the public function, its caller.
    warnings.warn(
        f"{where}(): `{old}` is deprecated and will be removed; use `{new}` instead.",
        DeprecationWarning,
        stacklevel=3,
    )
    return old_value
