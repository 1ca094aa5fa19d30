"""Array-namespace helpers shared by every module (numpy + array-api-compat only).

One code path serves numpy, torch (CPU/GPU), array-api-strict and any other array-API library:
functions call :func:`namespace` once and use ``xp.*`` after that.
"""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

Array = Any  # an array of any array-API library; kept loose on purpose for static typing

__all__ = [
    "Array",
    "as_array",
    "default_float",
    "device_of",
    "is_dask",
    "is_floating",
    "is_numpy",
    "library_name",
    "namespace",
    "row_norms",
    "to_numpy",
]


def library_name(x: object) -> str:
    """Readable ``module.Type`` of an object, for error messages."""
    kind = type(x)
    module = kind.__module__.split(".")[0]
    return f"{module}.{kind.__name__}"


def as_array(x: object, name: str) -> Array:
    """Return ``x`` unchanged when it is an array, else convert array-likes (lists) to numpy.

    Raises:
        TypeError: when ``x`` cannot be read as a numeric array.
    """
    if array_api_compat.is_array_api_obj(x):
        return x
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"Expected `{name}` to be an array, but got {library_name(x)} that numpy cannot read."
        ) from err
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(
            f"Expected `{name}` to be a numeric array, but got {library_name(x)} "
            f"with dtype {arr.dtype}."
        )
    return arr


def namespace(**arrays: Array) -> Any:
    """The shared array namespace of the named arrays, or a TypeError naming the libraries.

    Example:
        >>> import numpy as np
        >>> xp = namespace(x=np.zeros((2, 3)), anchors=np.ones((1, 3)))
        >>> xp.__name__
        'array_api_compat.numpy'
    """
    present = {k: v for k, v in arrays.items() if v is not None}
    try:
        return array_api_compat.array_namespace(*present.values())
    except TypeError as err:
        described = ", ".join(f"`{k}` is {library_name(v)}" for k, v in present.items())
        raise TypeError(
            f"Expected {', '.join(f'`{k}`' for k in present)} to come from the same array "
            f"library, but {described}. Convert them to one library first."
        ) from err


def is_dask(x: object) -> bool:
    """True for a ``dask.array.Array`` (recognised without importing dask)."""
    return type(x).__module__.startswith("dask.") and hasattr(x, "__dask_graph__")


def is_numpy(x: Array) -> bool:
    """True for numpy arrays (including memmaps)."""
    return isinstance(x, np.ndarray)


def is_floating(xp: Any, dtype: Any) -> bool:
    """True when ``dtype`` is a real floating dtype of namespace ``xp``."""
    return bool(xp.isdtype(dtype, "real floating"))


def default_float(xp: Any, device: Any = None) -> Any:
    """The default real floating dtype of ``xp`` (float64 for numpy, float32 for torch)."""
    info = getattr(xp, "__array_namespace_info__", None)
    if info is not None:
        try:
            return info().default_dtypes(device=device)["real floating"]
        except (TypeError, AttributeError, KeyError):
            pass
    return xp.float64


def device_of(x: Array) -> Any:
    """The device an array lives on (``"cpu"`` for numpy)."""
    return array_api_compat.device(x)


def row_norms(x: Array, xp: Any) -> Array:
    """Euclidean norm of each row of ``x`` (n, d) -> (n,), without an (n, d) temporary.

    numpy's ``vector_norm`` squares the whole array first; ``einsum`` streams the rows instead.
    """
    if is_numpy(x):
        return np.sqrt(np.einsum("ij,ij->i", x, x))
    linalg = getattr(xp, "linalg", None)
    if linalg is not None and hasattr(linalg, "vector_norm"):
        return linalg.vector_norm(x, axis=1)
    return xp.sqrt(xp.sum(x * x, axis=1))


def to_numpy(x: Array) -> np.ndarray:
    """Copy any array to a numpy array on the host (torch tensors are detached first)."""
    if is_numpy(x):
        return x
    if array_api_compat.is_torch_array(x):
        return x.detach().cpu().numpy()
    try:
        return np.asarray(x)
    except (TypeError, ValueError, RuntimeError):
        return np.from_dlpack(x)
