"""A fitted translator as plain arrays + JSON metadata, and back (for safetensors files).

No pickling: the arrays go into a safetensors file and the class name and parameters into
JSON; :func:`translator_from_state` rebuilds only the known ``relreps.translate`` classes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from relreps._array import to_numpy
from relreps._validation import fail

__all__ = ["translator_from_state", "translator_state"]

_COMMON = ("x_mean_", "x_scale_", "y_mean_", "y_scale_")
_ARRAYS = {
    "Procrustes": ("rotation_",),
    "LeastSquares": ("coef_", "_coef_pinv"),
    "Affine": ("coef_", "intercept_", "_coef_pinv"),
}


def _classes() -> dict[str, Any]:
    from relreps.translate import Affine, LeastSquares, Procrustes

    return {"Procrustes": Procrustes, "LeastSquares": LeastSquares, "Affine": Affine}


def translator_state(translator: Any) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays and the metadata of a fitted ``relreps.translate`` estimator.

    Args:
        translator: a fitted :class:`~relreps.translate.Procrustes`,
            :class:`~relreps.translate.LeastSquares` or :class:`~relreps.translate.Affine`.

    Returns:
        ``(arrays, meta)``: name -> contiguous float64 numpy array, and a JSON-ready dict
        (class, parameters, widths, scale).

    Example:
        >>> import numpy as np
        >>> from relreps.translate import Procrustes
        >>> x = np.random.default_rng(0).normal(size=(20, 3))
        >>> arrays, meta = translator_state(Procrustes().fit(x, x[:, ::-1]))
        >>> meta["class"], sorted(arrays)
        ('Procrustes', ['rotation_', 'x_mean_', 'x_scale_', 'y_mean_', 'y_scale_'])
    """
    kind = type(translator).__name__
    if kind not in _ARRAYS or not isinstance(translator, _classes()[kind]):
        raise fail("translator", f"one of relreps.translate's {sorted(_ARRAYS)}", kind, TypeError)
    if not hasattr(translator, "n_features_in_"):
        raise fail("translator", "a fitted translator", f"an unfitted {kind}")
    names = _COMMON + _ARRAYS[kind]
    arrays = {
        name: np.ascontiguousarray(to_numpy(getattr(translator, name)), dtype=np.float64)
        for name in names
    }
    params = translator._params()
    meta = {
        "class": kind,
        "params": params,
        "n_features_in": int(translator.n_features_in_),
        "n_features_out": int(translator.n_features_out_),
        "scale": float(getattr(translator, "scale_", 1.0)),
    }
    return arrays, meta


def translator_from_state(arrays: dict[str, Any], meta: dict[str, Any]) -> Any:
    """Rebuild a fitted translator from :func:`translator_state`'s output.

    Raises:
        ValueError: an unknown class, a missing array, or arrays whose shapes disagree with the
            recorded widths.

    Example:
        >>> import numpy as np
        >>> from relreps.translate import Procrustes
        >>> x = np.random.default_rng(0).normal(size=(20, 3))
        >>> t = Procrustes().fit(x, 2 * x)
        >>> back = translator_from_state(*translator_state(t))
        >>> bool(np.allclose(back.transform(x), t.transform(x)))
        True
    """
    kind = meta.get("class") if isinstance(meta, dict) else None
    if kind not in _ARRAYS:
        raise fail("meta['class']", f"one of {sorted(_ARRAYS)}", repr(kind))
    translator = _classes()[kind](**meta.get("params", {}))
    d_in, d_out = int(meta["n_features_in"]), int(meta["n_features_out"])
    for name in _COMMON + _ARRAYS[kind]:
        if name not in arrays:
            raise fail("arrays", f"an array named {name!r} (a saved {kind})", f"{sorted(arrays)}")
        setattr(translator, name, np.asarray(arrays[name], dtype=np.float64))
    translator.n_features_in_ = d_in
    translator.n_features_out_ = d_out
    if kind == "Procrustes":
        translator.scale_ = float(meta.get("scale", 1.0))
    expected = {"x_mean_": (d_in,), "x_scale_": (d_in,), "y_mean_": (d_out,), "y_scale_": (d_out,)}
    for name, shape in expected.items():
        if tuple(arrays[name].shape) != shape:
            raise fail(f"arrays[{name!r}]", f"shape {shape}", f"shape {tuple(arrays[name].shape)}")
    return translator
