"""Spaces of a stitching grid: one encoder's train, test and anchor embeddings of shared items.

Also turns the accepted inputs into validated numpy spaces (with a content digest for the cache)
and checks that every space embeds the same items and anchors.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from relreps._array import Array, to_numpy
from relreps._validation import check_matrix, fail
from relreps.anchors import anchor_keys


@dataclass(frozen=True)
class Space:
    """One encoder's view of the data: row i of ``train``/``test`` is the same item in every space,
    and row k of ``anchors`` is the same anchor item (parallel anchors).

    Attributes:
        name: the encoder's name (used in tables and cache files).
        train: (n_train, n_features) embeddings of the training items.
        test: (n_test, n_features) embeddings of the test items.
        anchors: (n_anchors, n_features) embeddings of the anchor items.
        anchor_ids: optional anchor identities (keys, or an object with ``to_dict()``), compared
            across spaces.
    """

    name: str
    train: Array
    test: Array
    anchors: Array
    anchor_ids: Any = None

    @classmethod
    def from_encoder(
        cls,
        name: str,
        encode: Callable[[Any], Array],
        *,
        train: Any,
        test: Any,
        anchors: Any,
        anchor_ids: Any = None,
    ) -> Space:
        """Embed the three item sets with ``encode(items) -> (n, n_features)`` array.

        Example:
            >>> import numpy as np
            >>> space = Space.from_encoder("double", lambda v: 2.0 * np.asarray(v),
            ...     train=np.ones((4, 3)), test=np.ones((2, 3)), anchors=np.eye(3))
            >>> space.train.shape, space.anchors.shape
            ((4, 3), (3, 3))
        """
        if not callable(encode):
            raise fail("encode", "a callable items -> embeddings", type(encode).__name__, TypeError)
        return cls(name, encode(train), encode(test), encode(anchors), anchor_ids)


@dataclass(frozen=True)
class _Prepared:
    name: str
    train: np.ndarray
    test: np.ndarray
    anchors: np.ndarray
    anchor_ids: list[Any] | None
    fingerprint: str


def _digest(*parts: Any) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            arr = np.ascontiguousarray(part)
            h.update(f"{arr.dtype.str}{arr.shape}".encode())
            h.update(arr.data)
        else:
            h.update(json.dumps(part, sort_keys=True, default=repr).encode())
        h.update(b"\x00")
    return h.hexdigest()


def _prepare_space(space: Space) -> _Prepared:
    base = f"spaces[{space.name!r}]"
    arrays = []
    for split in ("train", "test", "anchors"):
        shape_doc = "(n_anchors, n_features)" if split == "anchors" else f"(n_{split}, n_features)"
        arr = check_matrix(getattr(space, split), f"{base}.{split}", shape_doc=shape_doc)
        arr = np.asarray(to_numpy(arr))
        arrays.append(arr.astype(np.float32) if arr.dtype != np.float64 else arr)
    train, test, anchors = arrays
    for split, arr in (("test", test), ("anchors", anchors)):
        if arr.shape[1] != train.shape[1]:
            raise ValueError(
                f"Expected `{base}.{split}` to have the {train.shape[1]} features of "
                f"`{base}.train`, but got shape {arr.shape}."
            )
    ids = anchor_keys(space.anchor_ids, name=f"{base}.anchor_ids")
    if ids is not None and len(ids) != anchors.shape[0]:
        raise ValueError(
            f"Expected `{base}.anchor_ids` to name its {anchors.shape[0]} anchors, but got "
            f"{len(ids)} keys."
        )
    return _Prepared(
        space.name, train, test, anchors, ids, _digest(train, test, anchors, ids or [])
    )


def _as_spaces(spaces: Any, items: Any) -> list[Space]:
    if isinstance(spaces, Mapping):
        out = []
        for name, value in spaces.items():
            if isinstance(value, Space):
                out.append(value if value.name == name else Space(name, *_fields(value)))
            elif callable(value):
                if items is None:
                    raise fail(
                        "items",
                        "(train_items, test_items, anchor_items) to embed the callable encoders",
                        "None",
                        TypeError,
                    )
                train, test, anchors = items
                out.append(Space.from_encoder(name, value, train=train, test=test, anchors=anchors))
            else:
                raise fail(
                    f"spaces[{name!r}]",
                    "a Space or a callable encoder",
                    type(value).__name__,
                    TypeError,
                )
        spaces = out
    if isinstance(spaces, Space) or not isinstance(spaces, Sequence):
        raise fail(
            "spaces",
            "a sequence of Space or a mapping name -> Space/callable",
            repr(type(spaces)),
            TypeError,
        )
    for i, s in enumerate(spaces):
        if not isinstance(s, Space):
            raise fail(f"spaces[{i}]", "a relreps.stitching.Space", type(s).__name__, TypeError)
    return list(spaces)


def _fields(space: Space) -> tuple[Any, Any, Any, Any]:
    return space.train, space.test, space.anchors, space.anchor_ids


def _check_spaces(prepared: list[_Prepared], n_train: int, n_test: int) -> None:
    if len(prepared) < 1:
        raise fail("spaces", "at least one space", "none")
    names = [p.name for p in prepared]
    if len(set(names)) != len(names) or not all(isinstance(n, str) and n for n in names):
        raise fail("spaces", "spaces with distinct non-empty names", repr(names))
    first = prepared[0]
    for p in prepared:
        if p.train.shape[0] != n_train:
            raise ValueError(
                f"Expected `spaces[{p.name!r}].train` to have one row per label in `y_train` "
                f"({n_train}), but got {p.train.shape[0]} rows."
            )
        if p.test.shape[0] != n_test:
            raise ValueError(
                f"Expected `spaces[{p.name!r}].test` to have one row per label in `y_test` "
                f"({n_test}), but got {p.test.shape[0]} rows."
            )
        if p.anchors.shape[0] != first.anchors.shape[0]:
            raise ValueError(
                f"Expected every space to embed the same anchors, but {first.name!r} has "
                f"{first.anchors.shape[0]} anchors and {p.name!r} has {p.anchors.shape[0]}."
            )
    with_ids = [p for p in prepared if p.anchor_ids is not None]
    for p in with_ids[1:]:
        ref = with_ids[0]
        if p.anchor_ids != ref.anchor_ids:
            where = next(
                i
                for i, (a, b) in enumerate(
                    zip(ref.anchor_ids or [], p.anchor_ids or [], strict=False)
                )
                if a != b
            )
            raise ValueError(
                f"Expected every space to embed the same anchor items, but anchor {where} is "
                f"{(ref.anchor_ids or [])[where]!r} in {ref.name!r} and "
                f"{(p.anchor_ids or [])[where]!r} in {p.name!r}."
            )
