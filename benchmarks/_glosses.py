"""Real text for the alignment benchmarks: up to 100,000 WordNet glosses and their embeddings.

WordNet 3.0 (Debian ``wordnet-base``) has 117,659 synsets over its four data files (nouns, verbs,
adjectives, adverbs): enough distinct glosses for a 100,000-row corpus of real sentences.
:func:`wordnet_corpus` parses every ``data.*`` file (the text after `` | `` without its quoted
usage examples, and the synset's lemmas), drops repeated definitions, and takes a seeded sample.
:func:`embed` embeds it with an offline encoder through relreps' on-disk embedding cache
(``$RELREPS_CACHE_DIR``), so only the first run pays for the encoder.
"""

from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass

import numpy as np

WORDNET = "/usr/share/wordnet"
POS_FILES = {"noun": "n", "verb": "v", "adj": "a", "adv": "r"}  # file -> id prefix
_EXAMPLES = re.compile(r'[;:] "')
_MARKER = re.compile(r"\([a-z]+\)$")  # adjective position markers: "able(a)" -> "able"


@dataclass(frozen=True)
class Corpus:
    """Glosses with their synset ids and lemmas, row ``i`` = one synset.

    Attributes:
        ids: ``"<pos>:<offset>"`` per row.
        texts: the definitions (usage examples cut off).
        lemmas: the synset's words, comma-separated (``"dog, domestic dog, Canis familiaris"``).
    """

    ids: tuple[str, ...]
    texts: tuple[str, ...]
    lemmas: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.ids)


def _parse(pos: str) -> list[tuple[str, str, str]]:
    path = os.path.join(WORDNET, f"data.{pos}")
    if not os.path.exists(path):
        sys.exit(f"{path} is missing: apt-get install wordnet-base")
    rows = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("  ") or " | " not in line:
                continue
            head, gloss = line.split(" | ", 1)
            fields = head.split()
            n_words = int(fields[3], 16)
            words = [_MARKER.sub("", w).replace("_", " ") for w in fields[4 : 4 + 2 * n_words : 2]]
            cut = _EXAMPLES.search(gloss)
            text = (gloss[: cut.start()] if cut else gloss).strip().rstrip(";").strip()
            rows.append((f"{POS_FILES[pos]}:{fields[0]}", text, ", ".join(words)))
    return rows


def wordnet_corpus(n: int, *, seed: int = 0) -> Corpus:
    """``n`` distinct glosses (a seeded sample, in file order) over all four parts of speech."""
    seen: set[str] = set()
    rows = []
    for pos in POS_FILES:
        for row in _parse(pos):
            if row[1] and row[1] not in seen:
                seen.add(row[1])
                rows.append(row)
    if n > len(rows):
        sys.exit(f"asked for {n} glosses, WordNet has {len(rows)} distinct ones")
    keep = np.sort(np.random.default_rng(seed).choice(len(rows), size=n, replace=False))
    ids, texts, lemmas = zip(*(rows[i] for i in keep), strict=True)
    return Corpus(ids, texts, lemmas)


def embed(name: str, corpus: Corpus, *, split: str, log: bool = True) -> np.ndarray:
    """``(len(corpus), dim)`` float32 embeddings of the glosses by the offline encoder ``name``,
    read from the embedding cache when this exact corpus was embedded before."""
    from relreps.encoders import cached_encode, load_encoder

    start = time.perf_counter()
    out = cached_encode(
        load_encoder(name, offline=True),
        list(corpus.texts),
        list(corpus.ids),
        dataset="wordnet-all-glosses",
        split=split,
        batch_size=64,
    )
    if log:
        print(f"  {name}: {out.shape} in {time.perf_counter() - start:.1f} s (cache)", flush=True)
    return np.asarray(out, dtype=np.float32)
