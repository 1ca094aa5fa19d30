"""The vector-files variant of the word-embeddings experiment: the protocol on a user's files.

:func:`files_experiment` reads two or more vector files, keeps the words they share in the first
file's order, and compares every ordered pair with the same protocol as the trained spaces
(public entry: :func:`relreps.experiments.word_embeddings.run_on_files`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from relreps._validation import fail
from relreps.experiments._word_lineup import check_vocabulary, shared_words
from relreps.experiments._word_protocol import NAME, Comparison, WordEmbeddingsConfig
from relreps.experiments._word_report import build_result
from relreps.experiments.base import ExperimentResult, RunContext


def files_experiment(
    paths: Sequence[str | os.PathLike[str]],
    names: Sequence[str] | None,
    context: RunContext,
    config: WordEmbeddingsConfig,
    max_words: int | None = None,
) -> ExperimentResult:
    """Read the vector files and compare every ordered pair (see ``run_on_files``)."""
    from relreps.datasets import read_word_vectors

    if len(paths) < 2:
        raise fail("paths", "two or more word-vector files", f"{len(paths)}")
    ids = list(names) if names is not None else [f"space-{chr(97 + i)}" for i in range(len(paths))]
    if len(ids) != len(paths) or len(set(ids)) != len(ids):
        raise fail("names", f"{len(paths)} distinct names", repr(names))
    spaces, info = {}, {}
    for space_id, path in zip(ids, paths, strict=True):
        space = read_word_vectors(path, name=space_id, max_words=max_words)
        context.log(f"[{NAME}] {space_id}: {len(space):,} words x {space.dim} from {path}")
        spaces[space_id] = space
        info[space_id] = {
            "label": space_id,
            "kind": f"file {Path(path).name}",
            "dim": space.dim,
            "n_words": len(space),
            "train_seconds": None,
            "from_cache": None,
        }
    first = ids[0]
    vocab = shared_words(list(spaces.values()), spaces[first].words, config)
    check_vocabulary("files", vocab, config)
    context.log(f"[{NAME}] {len(vocab):,} shared words (frequency order of {first})")
    strategies = tuple(
        s
        for s in config.strategies
        if not s.startswith("top-") or int(s.split("-")[1]) <= len(vocab)
    )
    # Every anchor strategy on the first two files (both directions), uniform on the rest.
    comparisons = [
        Comparison(a, b, "files", strategies if {a, b} == {first, ids[1]} else ("uniform",))
        for a in ids
        for b in ids
        if a != b
    ]
    sizes = ",".join(
        f"{i}:{Path(p).resolve()}:{os.path.getsize(p)}" for i, p in zip(ids, paths, strict=True)
    )
    result = build_result(
        spaces,
        info,
        {"files": vocab},
        comparisons,
        config,
        context,
        f"files/{sizes}/{max_words}",
        first,
        ids[:3],
    )
    return replace(result, config={**result.config, "files": [str(p) for p in paths]})
