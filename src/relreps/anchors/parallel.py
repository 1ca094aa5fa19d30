"""Parallel anchors: anchor j in one domain is the same thing as anchor j in every other domain.

The same word in two vocabularies, a sentence and its translation, an image under two encoders.
A :class:`ParallelAnchors` stores the anchors' identities (keys), not their vectors, so a trained
model can ship them as JSON and any domain can find its own anchor rows again.

Stored form (``to_dict``), stable across versions::

    {"format": "relreps.ParallelAnchors", "version": 1,
     "domains": ["en", "fr"], "keys": {"en": ["cat", "dog"], "fr": ["chat", "chien"]}}
"""

from __future__ import annotations

import json
import numbers
import os
import string
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from relreps._io import atomic_write_text
from relreps._validation import fail
from relreps.anchors._inputs import check_indices

__all__ = ["AnchorRows", "Key", "ParallelAnchors", "anchor_keys"]

Key = str | int  # JSON-safe anchor identities
Vocabulary = Sequence[Any] | Mapping[Any, int]

_FORMAT = "relreps.ParallelAnchors"
_VERSION = 1
_SHOWN_KEYS = 5


@dataclass(frozen=True, eq=False)
class AnchorRows:
    """Where the anchors sit in each domain: the result of :meth:`ParallelAnchors.indices`.

    ``rows[s][j]`` is the row, in domain ``s``, of the j-th anchor kept; iterating yields
    ``rows`` in domain order, so ``rows_a, rows_b = anchors.indices(vocab_a, vocab_b)`` works.

    Attributes:
        domains: the domain names.
        rows: one int64 array (n_kept,) of row indices per domain, aligned across domains.
        kept: positions (n_kept,) in the :class:`ParallelAnchors` of the anchors kept.
        missing: per domain, how many anchors' keys were absent from that domain.
        n_anchors: number of anchors in the :class:`ParallelAnchors`.
    """

    domains: tuple[str, ...]
    rows: tuple[np.ndarray, ...]
    kept: np.ndarray
    missing: dict[str, int]
    n_anchors: int

    @property
    def n_kept(self) -> int:
        return int(self.kept.shape[0])

    @property
    def n_dropped(self) -> int:
        """Anchors missing from at least one domain, hence left out of ``rows``."""
        return self.n_anchors - self.n_kept

    def __getitem__(self, domain: str | int) -> np.ndarray:
        """Rows of one domain, by name or position."""
        if isinstance(domain, str):
            if domain not in self.domains:
                raise fail("domain", f"one of {list(self.domains)}", repr(domain), KeyError)
            return self.rows[self.domains.index(domain)]
        return self.rows[domain]

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "domains": list(self.domains),
            "rows": {d: r.tolist() for d, r in zip(self.domains, self.rows, strict=True)},
            "kept": self.kept.tolist(),
            "missing": dict(self.missing),
            "n_anchors": self.n_anchors,
            "n_dropped": self.n_dropped,
        }


@dataclass(frozen=True)
class ParallelAnchors:
    """Corresponding anchors across two or more domains, identified by their keys.

    ``keys[s][j]`` is the key (a ``str`` or ``int``) of anchor ``j`` in domain ``domains[s]``.
    Keys are unique within each domain. Build one with :meth:`from_aligned`, :meth:`from_pairs`
    or :meth:`from_shared_keys`; find the anchor rows of each domain with :meth:`indices`.

    Example:
        >>> anchors = ParallelAnchors.from_pairs(
        ...     {"cat": "chat", "dog": ["chien", "toutou"], "eel": None}, domains=("en", "fr")
        ... )
        >>> anchors.keys
        (('cat', 'dog'), ('chat', 'chien'))
        >>> rows = anchors.indices(["dog", "cat", "emu"], {"chien": 7, "chat": 3})
        >>> rows["en"].tolist(), rows["fr"].tolist(), rows.n_dropped
        ([1, 0], [3, 7], 0)
        >>> ParallelAnchors.from_json(anchors.to_json()) == anchors
        True
    """

    domains: tuple[str, ...]
    keys: tuple[tuple[Key, ...], ...]

    def __post_init__(self) -> None:
        domains = tuple(self.domains) if not isinstance(self.domains, str) else (self.domains,)
        if len(domains) < 2 or not all(isinstance(d, str) and d for d in domains):
            raise fail("domains", "two or more non-empty domain names", repr(self.domains))
        if len(set(domains)) != len(domains):
            raise fail("domains", "distinct domain names", repr(list(domains)))
        if isinstance(self.keys, str | bytes) or not isinstance(self.keys, Iterable):
            raise fail("keys", "one key list per domain", repr(self.keys), TypeError)
        keys = tuple(_key_list(k, f"keys[{i}]") for i, k in enumerate(self.keys))
        if len(keys) != len(domains):
            raise fail("keys", f"one key list per domain ({len(domains)})", f"{len(keys)} lists")
        sizes = {len(k) for k in keys}
        if len(sizes) != 1:
            lengths = {d: len(k) for d, k in zip(domains, keys, strict=True)}
            raise fail("keys", "key lists of equal length (aligned anchors)", f"lengths {lengths}")
        if not keys[0]:
            raise fail("keys", "at least one anchor", "empty key lists")
        for domain, domain_keys in zip(domains, keys, strict=True):
            _check_unique(domain_keys, f"keys of domain {domain!r}")
        object.__setattr__(self, "domains", domains)
        object.__setattr__(self, "keys", keys)

    def __len__(self) -> int:
        return len(self.keys[0])

    def __repr__(self) -> str:
        return f"ParallelAnchors(domains={self.domains!r}, n_anchors={len(self)})"

    # -- building ----------------------------------------------------------------------------

    @classmethod
    def from_aligned(
        cls, *key_lists: Iterable[Key], domains: Sequence[str] | None = None
    ) -> ParallelAnchors:
        """From aligned key lists: ``key_lists[s][j]`` is anchor j in domain s.

        Args:
            *key_lists: two or more equally long lists of str/int keys, unique within each.
            domains: names of the domains (default ``"a"``, ``"b"``, ...).

        Example:
            >>> ParallelAnchors.from_aligned(["cat", "dog"], ["chat", "chien"]).keys[1]
            ('chat', 'chien')
        """
        return cls(_domain_names(domains, len(key_lists)), key_lists)  # type: ignore[arg-type]

    @classmethod
    def from_pairs(
        cls,
        pairs: Mapping[Any, Any] | Iterable[tuple[Any, Any]],
        *,
        domains: Sequence[str] = ("a", "b"),
        vocabularies: tuple[Vocabulary, Vocabulary] | None = None,
    ) -> ParallelAnchors:
        """From a two-domain dictionary, e.g. English -> French words.

        ``pairs`` maps each source key to one target key, a list of candidate translations in
        order of preference, or ``None``; or it is an iterable of ``(source, target)`` pairs
        (a repeated source lists several translations). Each source takes its first candidate
        that is still free (and present in the target vocabulary when ``vocabularies`` is
        given), so the result is one-to-one; sources without one are left out.

        Args:
            pairs: the dictionary, as above.
            domains: names of the source and target domains.
            vocabularies: optional ``(source keys, target keys)``: pairs whose source or
                target is absent are skipped (a later candidate translation may be used).

        Raises:
            ValueError: when no pair is left.

        Example:
            >>> pa = ParallelAnchors.from_pairs(
            ...     [("bank", "banque"), ("bank", "rive"), ("shore", "rive"), ("sea", "mer")],
            ...     vocabularies=(["bank", "shore", "sea"], ["rive", "mer"]),
            ... )
            >>> list(zip(*pa.keys))
            [('bank', 'rive'), ('sea', 'mer')]
        """
        names = _domain_names(domains, 2)
        candidates = _candidate_translations(pairs)
        allowed: list[set[Any] | None] = [None, None]
        if vocabularies is not None:
            if not isinstance(vocabularies, tuple | list) or len(vocabularies) != 2:
                raise fail(
                    "vocabularies", "a (source keys, target keys) pair", repr(type(vocabularies))
                )
            allowed = [
                set(_vocabulary_rows(v, f"vocabularies[{i}]")) for i, v in enumerate(vocabularies)
            ]
        sources: list[Key] = []
        targets: list[Key] = []
        used: set[Key] = set()
        for source, options in candidates.items():
            if allowed[0] is not None and source not in allowed[0]:
                continue
            for target in options:
                if target in used or (allowed[1] is not None and target not in allowed[1]):
                    continue
                sources.append(source)
                targets.append(target)
                used.add(target)
                break
        if not sources:
            raise fail("pairs", "at least one usable (source, target) pair", "none left")
        return cls(names, (tuple(sources), tuple(targets)))

    @classmethod
    def from_shared_keys(
        cls, *vocabularies: Vocabulary, domains: Sequence[str] | None = None
    ) -> ParallelAnchors:
        """The keys present in every vocabulary, in the order of the first one.

        Args:
            *vocabularies: two or more vocabularies: sequences of keys in row order or
                ``{key: row}`` mappings; keys unique within each.
            domains: names of the domains (default ``"a"``, ``"b"``, ...).

        Example:
            >>> ParallelAnchors.from_shared_keys(["the", "cat", "sat"], ["sat", "cat"]).keys[0]
            ('cat', 'sat')
        """
        names = _domain_names(domains, len(vocabularies))
        lookups = [_vocabulary_rows(v, f"vocabularies[{i}]") for i, v in enumerate(vocabularies)]
        shared = tuple(k for k in lookups[0] if all(k in other for other in lookups[1:]))
        if not shared:
            raise fail("vocabularies", "at least one key shared by all", "no shared key")
        return cls(names, tuple(shared for _ in names))

    def subset(self, positions: object) -> ParallelAnchors:
        """The anchors at ``positions`` (distinct ints, shape (m,)), e.g. indices from a
        selection function run on the shared rows.

        Example:
            >>> ParallelAnchors.from_aligned([1, 2, 3], [4, 5, 6]).subset([2, 0]).keys
            ((3, 1), (6, 4))
        """
        index = check_indices(positions, "positions", len(self)).tolist()
        return type(self)(self.domains, tuple(tuple(k[i] for i in index) for k in self.keys))

    # -- finding rows ------------------------------------------------------------------------

    def indices(self, *vocabularies: Vocabulary, strict: bool = False) -> AnchorRows:
        """Row of every anchor in each domain, dropping anchors missing on any side.

        Args:
            *vocabularies: one per domain, in :attr:`domains` order: the domain's keys in row
                order (row i of its embeddings has key ``vocabulary[i]``) or a
                ``{key: row}`` mapping.
            strict: raise instead of dropping when an anchor is missing somewhere.

        Returns:
            :class:`AnchorRows` with aligned int64 rows per domain and the drop counts.

        Raises:
            ValueError: with ``strict=True`` when anchors are missing (the first few are
                named), or when a vocabulary repeats a key.
        """
        if len(vocabularies) != len(self.domains):
            raise fail(
                "vocabularies",
                f"one vocabulary per domain {list(self.domains)}",
                f"{len(vocabularies)}",
            )
        lookups = [
            _vocabulary_rows(v, f"vocabularies[{i}] (domain {d!r})")
            for i, (v, d) in enumerate(zip(vocabularies, self.domains, strict=True))
        ]
        found = [
            np.array([lookup.get(key, -1) for key in keys], dtype=np.int64)
            for lookup, keys in zip(lookups, self.keys, strict=True)
        ]
        present = np.logical_and.reduce([f >= 0 for f in found])
        missing = {d: int((f < 0).sum()) for d, f in zip(self.domains, found, strict=True)}
        if strict and not present.all():
            absent = {
                d: [keys[j] for j in np.flatnonzero(f < 0)[:_SHOWN_KEYS]]
                for d, keys, f in zip(self.domains, self.keys, found, strict=True)
                if (f < 0).any()
            }
            raise fail(
                "vocabularies",
                "to hold every anchor key (strict=True)",
                f"{int((~present).sum())} anchors missing; per domain {missing}, e.g. {absent}",
            )
        kept = np.flatnonzero(present).astype(np.int64)
        return AnchorRows(
            domains=self.domains,
            rows=tuple(f[kept] for f in found),
            kept=kept,
            missing=missing,
            n_anchors=len(self),
        )

    # -- serialisation -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; the format is stable (see the module docstring)."""
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "domains": list(self.domains),
            "keys": {d: list(k) for d, k in zip(self.domains, self.keys, strict=True)},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ParallelAnchors:
        """Rebuild from :meth:`to_dict` output, checking its format and version."""
        if not isinstance(data, Mapping):
            raise fail(
                "data", "a dict from ParallelAnchors.to_dict()", type(data).__name__, TypeError
            )
        if data.get("format") != _FORMAT or data.get("version") != _VERSION:
            raise fail(
                "data",
                f"format {_FORMAT!r} version {_VERSION}",
                f"format {data.get('format')!r} version {data.get('version')!r}",
            )
        domains = data.get("domains")
        keys = data.get("keys")
        if not isinstance(domains, list) or not isinstance(keys, Mapping):
            raise fail("data", "'domains' (list) and 'keys' (dict) entries", repr(sorted(data)))
        if set(keys) != set(domains):
            raise fail("data", f"'keys' for exactly the domains {domains}", repr(list(keys)))
        return cls(tuple(domains), tuple(tuple(keys[d]) for d in domains))

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> ParallelAnchors:
        try:
            data = json.loads(text)
        except (TypeError, json.JSONDecodeError) as err:
            raise fail(
                "text", "JSON from ParallelAnchors.to_json()", f"unreadable text ({err})"
            ) from err
        return cls.from_dict(data)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the JSON form atomically (temporary file in the same folder, then rename)."""
        target = Path(path)
        atomic_write_text(target, self.to_json(indent=1))
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ParallelAnchors:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


def _plain_key(key: object, name: str, position: int) -> Key:
    """A key as a plain ``str`` or ``int`` (numpy scalars unwrapped), else a TypeError."""
    if isinstance(key, str):
        return str(key)
    if isinstance(key, numbers.Integral) and not isinstance(key, bool | np.bool_):
        return int(key)
    raise fail(
        name, "str or int keys", f"{key!r} ({type(key).__name__}) at position {position}", TypeError
    )


def _key_list(keys: object, name: str) -> tuple[Key, ...]:
    if isinstance(keys, str | bytes) or not isinstance(keys, Iterable):
        raise fail(name, "a list of keys", repr(keys), TypeError)
    return tuple(_plain_key(k, name, i) for i, k in enumerate(keys))


def _check_unique(keys: Sequence[Key], name: str) -> None:
    seen: dict[Key, int] = {}
    for i, key in enumerate(keys):
        if key in seen:
            raise fail(name, "unique keys", f"{key!r} at positions {seen[key]} and {i}")
        seen[key] = i


def _domain_names(domains: Sequence[str] | None, count: int) -> tuple[str, ...]:
    if domains is None:
        if count > len(string.ascii_lowercase):
            raise fail("domains", f"names for the {count} domains", "None")
        return tuple(string.ascii_lowercase[:count])
    names = (domains,) if isinstance(domains, str) else tuple(domains)
    if len(names) != count:
        raise fail("domains", f"{count} domain names", repr(domains))
    return names


def _vocabulary_rows(vocabulary: object, name: str) -> dict[Key, int]:
    """``{key: row}`` from a key sequence (row order) or a mapping; repeated keys are an error."""
    if isinstance(vocabulary, Mapping):
        rows: dict[Key, int] = {}
        for i, (key, row) in enumerate(vocabulary.items()):
            if isinstance(row, bool) or not isinstance(row, numbers.Integral) or row < 0:
                raise fail(
                    name, "a {key: row} mapping with non-negative int rows", f"{key!r}: {row!r}"
                )
            rows[_plain_key(key, name, i)] = int(row)
        return rows
    if isinstance(vocabulary, str | bytes) or not isinstance(vocabulary, Iterable):
        raise fail(name, "a sequence of keys or a {key: row} mapping", repr(vocabulary), TypeError)
    rows = {}
    for i, key in enumerate(vocabulary):
        plain = _plain_key(key, name, i)
        if plain in rows:
            raise fail(name, "unique keys", f"{plain!r} at rows {rows[plain]} and {i}")
        rows[plain] = i
    return rows


def _candidate_translations(pairs: object) -> dict[Key, list[Key]]:
    """``{source: [targets in preference order]}`` from a mapping or (source, target) pairs."""
    out: dict[Key, list[Key]] = {}
    if isinstance(pairs, Mapping):
        for i, (source, value) in enumerate(pairs.items()):
            key = _plain_key(source, "pairs", i)
            if value is None:
                options: list[object] = []
            elif isinstance(value, str) or isinstance(value, numbers.Integral):
                options = [value]
            elif isinstance(value, list | tuple):
                options = list(value)
            else:
                raise fail(
                    "pairs",
                    "values that are a key, a list of keys or None",
                    f"{value!r} ({type(value).__name__}) for {source!r}",
                    TypeError,
                )
            out[key] = [_plain_key(t, f"pairs[{source!r}]", j) for j, t in enumerate(options)]
        return out
    if isinstance(pairs, str | bytes) or not isinstance(pairs, Iterable):
        raise fail(
            "pairs", "a mapping or an iterable of (source, target) pairs", repr(pairs), TypeError
        )
    for i, pair in enumerate(pairs):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise fail("pairs", "(source, target) pairs", f"{pair!r} at position {i}")
        source = _plain_key(pair[0], "pairs", i)
        out.setdefault(source, []).append(_plain_key(pair[1], "pairs", i))
    return out


def anchor_keys(anchor_ids: Any, *, name: str = "anchor_ids") -> list[str | int] | None:
    """Anchor identities as a JSON-able list of distinct str/int keys (None stays None).

    Accepts a sequence (or numpy array) of keys, or an object with ``to_dict()``:
    a ``relreps.anchors.ParallelAnchors`` gives the keys of its FIRST domain (the pivot: anchor j
    is the same item in every domain, so the pivot keys name it), and a dict holding a flat list
    under ``"keys"``, ``"ids"``, ``"anchor_ids"`` or ``"identities"`` gives that list.

    Example:
        >>> anchor_keys(["cat", "dog", 3])
        ['cat', 'dog', 3]
        >>> from relreps.anchors import ParallelAnchors
        >>> pairs = ParallelAnchors.from_pairs({"cat": "chat", "dog": "chien"})  # domains a, b
        >>> anchor_keys(pairs)
        ['cat', 'dog']
    """
    if anchor_ids is None:
        return None
    if hasattr(anchor_ids, "to_dict"):
        data = anchor_ids.to_dict()
        if isinstance(data, Mapping):
            domains = data.get("domains")
            per_domain = data.get("keys")
            if isinstance(per_domain, Mapping) and isinstance(domains, list) and domains:
                return anchor_keys(list(per_domain[domains[0]]), name=name)
            for field in ("keys", "ids", "anchor_ids", "identities"):
                if field in data:
                    return anchor_keys(list(data[field]), name=name)
        raise fail(
            name,
            "an object whose to_dict() holds 'keys' (a list, or one list per domain)",
            f"{type(anchor_ids).__name__} with {data!r}"[:200],
            TypeError,
        )
    if isinstance(anchor_ids, str | bytes) or not (
        isinstance(anchor_ids, Sequence) or hasattr(anchor_ids, "tolist")
    ):
        raise fail(
            name, "a sequence of str/int keys or a ParallelAnchors", repr(anchor_ids), TypeError
        )
    keys: list[str | int] = []
    items = anchor_ids.tolist() if hasattr(anchor_ids, "tolist") else anchor_ids
    for i, key in enumerate(items):
        if hasattr(key, "item") and not isinstance(key, str):
            key = key.item()
        if isinstance(key, bool) or not isinstance(key, str | int):
            raise fail(f"{name}[{i}]", "a str or int key", repr(key), TypeError)
        keys.append(key)
    if len(set(keys)) != len(keys):
        raise fail(name, "distinct keys", f"{len(keys) - len(set(keys))} duplicate(s)")
    return keys
