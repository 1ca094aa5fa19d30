"""Several spaces over the same samples: select anchors once, use them in every space.

Row i of every space is the same sample (the same image under two encoders, the same sentence
embedded by two models), so anchor indices chosen in one space pick the corresponding anchors in
all of them (:func:`take`). To choose anchors from the information of all spaces together,
select on :func:`joint_space`, which weighs every space equally.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from relreps._array import Array, device_of, namespace, to_numpy
from relreps._validation import check_matrix, check_paired, fail
from relreps.anchors._inputs import check_indices, check_metric, check_points

__all__ = ["joint_space", "take"]


def take(indices: object, *spaces: Array) -> tuple[Array, ...]:
    """The anchor rows of every space: ``spaces[s][indices]`` for each space, same array type.

    Args:
        indices: anchor indices, shape (n_anchors,), e.g. from :func:`relreps.anchors.kmeans`.
        *spaces: one or more paired spaces, each (n_samples, n_features_s), numpy, torch or any
            array-API array; row i of each is the same sample.

    Returns:
        tuple with one (n_anchors, n_features_s) array per space, in that space's library,
        device and dtype.

    Example:
        >>> import numpy as np
        >>> a, b = np.arange(12.0).reshape(4, 3), np.arange(8.0).reshape(4, 2)
        >>> anchors_a, anchors_b = take([3, 1], a, b)
        >>> anchors_a.tolist(), anchors_b.tolist()
        ([[9.0, 10.0, 11.0], [3.0, 4.0, 5.0]], [[6.0, 7.0], [2.0, 3.0]])
    """
    if not spaces:
        raise fail("spaces", "at least one (n_samples, n_features) array", "none", TypeError)
    checked = [check_matrix(s, f"spaces[{i}]", finite=False) for i, s in enumerate(spaces)]
    for i, space in enumerate(checked[1:], start=1):
        check_paired(checked[0], "spaces[0]", space, f"spaces[{i}]")
    rows = check_indices(indices, "indices", int(checked[0].shape[0]))
    out = []
    for space in checked:
        xp = namespace(space=space)
        index = xp.asarray(rows, device=device_of(space))
        out.append(xp.take(space, index, axis=0))
    return tuple(out)


def joint_space(*spaces: Array, metric: str = "cosine") -> np.ndarray:
    """Concatenate paired spaces so that each weighs the same in the joint geometry.

    With ``metric="cosine"`` each space's rows are L2-normalised and scaled by ``1/sqrt(m)``
    (``m`` spaces): the joint rows have unit norm and the joint cosine similarity of two samples
    is the mean of their per-space cosine similarities. With ``metric="euclidean"`` each space
    is centred and divided by its root-mean-square row norm (then by ``sqrt(m)``), so the joint
    squared distance is the mean of the per-space standardised squared distances. Select on the
    result with the same ``metric`` (k-means or farthest-point on the union of the information)
    and apply the indices to every space with :func:`take`.

    Args:
        *spaces: one or more paired spaces, each (n_samples, n_features_s), numpy or torch.
        metric: ``"cosine"`` or ``"euclidean"``.

    Returns:
        numpy array (n_samples, sum of n_features_s), float32 when every space is float32,
        float64 otherwise.

    Example:
        >>> import numpy as np
        >>> a = np.array([[3.0, 4.0], [1.0, 0.0]])
        >>> b = np.array([[0.0, 2.0], [0.0, 5.0]])
        >>> joint = joint_space(a, b)
        >>> joint.shape, np.round(np.linalg.norm(joint, axis=1), 6).tolist()
        ((2, 4), [1.0, 1.0])
        >>> round(float(joint[0] @ joint[1]), 6)  # mean of the cosines 0.6 and 1.0
        0.8
    """
    metric = check_metric(metric)
    if not spaces:
        raise fail("spaces", "at least one (n_samples, n_features) array", "none", TypeError)
    arrays = [check_points(s, f"spaces[{i}]") for i, s in enumerate(spaces)]
    for i, arr in enumerate(arrays[1:], start=1):
        check_paired(arrays[0], "spaces[0]", arr, f"spaces[{i}]")
    dtype = np.float32 if all(a.dtype == np.float32 for a in arrays) else np.float64
    weight = 1.0 / math.sqrt(len(arrays))
    blocks = []
    for arr in arrays:
        block: np.ndarray[Any, np.dtype[np.floating[Any]]] = np.array(to_numpy(arr), dtype=dtype)
        if metric == "cosine":
            norms = np.sqrt(np.einsum("ij,ij->i", block, block))[:, None]
            np.divide(block, norms, out=block, where=norms > 0)
        else:
            block -= block.mean(axis=0)
            rms = math.sqrt(float(np.einsum("ij,ij->", block, block)) / block.shape[0])
            if rms > 0:
                block /= rms
        block *= weight
        blocks.append(block)
    return np.concatenate(blocks, axis=1)
