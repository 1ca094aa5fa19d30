"""Figures of image reconstructions: the same test images through several (stitched) autoencoders.

:func:`reconstruction_grid` runs channels-first images ``(n, C, H, W)`` through each model and
draws the originals and every model's output, one labelled row each
(:func:`relreps.report.image_grid`). A model is any callable from images to images of the same
shape: a relreps.nn autoencoder, or one stitched from two of them by :func:`relreps.nn.stitch`.
torch is imported inside the function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from relreps._validation import fail
from relreps.report.figures import image_grid
from relreps.results import Figure

__all__ = ["reconstruction_grid"]

ORIGINAL = "original"
"""The name of the first row (the images themselves)."""


def reconstruction_grid(
    images: Any,
    models: Mapping[str, Callable[[Any], Any]],
    path: Path | str,
    *,
    max_cols: int = 12,
    root: Path | str | None = None,
    caption: str | None = None,
) -> Figure:
    """Draw ``images`` and each model's reconstruction of them, one row per model.

    Args:
        images: ``(n, C, H, W)`` torch tensor (or numpy array) in [0, 1], ``C`` 1 (grey) or 3
            (colour).
        models: row name -> callable mapping the ``(n, C, H, W)`` tensor to an ``(n, C, H, W)``
            reconstruction (run without gradients), in row order.
        path: the PNG to write (relative to ``root`` when given).
        max_cols: at most this many images per row.
        root: the run folder; the returned ``Figure.path`` is relative to it.
        caption: the figure's caption (default: the row names).

    Returns:
        The written :class:`relreps.results.Figure`.

    Raises:
        ValueError: images of another shape, a row named ``"original"``, or a reconstruction
            whose shape differs from the images'.
        TypeError: ``models`` is not a non-empty mapping of callables.

    Example:
        >>> import tempfile, torch
        >>> from relreps.nn import AbsoluteAE, MLPEncoder
        >>> ae = AbsoluteAE(MLPEncoder((1, 8, 8), 4)).eval()
        >>> reconstruction_grid(torch.rand(3, 1, 8, 8), {"AE": ae}, "r.png",
        ...                     root=tempfile.mkdtemp()).path
        'r.png'
    """
    import torch

    x = torch.as_tensor(images)
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise fail("images", "an (n, C, H, W) tensor with C = 1 or 3", f"shape {tuple(x.shape)}")
    if not isinstance(models, Mapping) or not models:
        raise fail("models", "a non-empty mapping of row name -> model", repr(models), TypeError)
    if ORIGINAL in models:
        raise fail("models", f"row names other than {ORIGINAL!r} (the first row)", ORIGINAL)
    rows = {ORIGINAL: x}
    with torch.no_grad():
        for name, model in models.items():
            if not callable(model):
                raise fail(f"models[{name!r}]", "a callable", type(model).__name__, TypeError)
            out = torch.as_tensor(model(x))
            if out.shape != x.shape:
                raise fail(
                    f"models[{name!r}]", f"output of shape {tuple(x.shape)}", f"{tuple(out.shape)}"
                )
            rows[name] = out
    arrays = {k: v.detach().cpu().numpy() for k, v in rows.items()}
    # image_grid takes grey (n, H, W) and colour (n, H, W, 3) images
    grid = {k: a[:, 0] if a.shape[1] == 1 else a.transpose(0, 2, 3, 1) for k, a in arrays.items()}
    return image_grid(grid, path, max_cols=max_cols, root=root, caption=caption)
