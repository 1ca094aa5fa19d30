"""WordNet 3.0 synsets read straight from the database files (``data.noun``, ``data.verb``).

Each synset line is ``offset lex_filenum ss_type w_cnt (word lex_id){w_cnt} p_cnt
(pointer_symbol offset pos source/target){p_cnt} [frames] | gloss`` (see wndb(5)); lines that
start with two spaces are the licence header. The lexicographer file number is a supersense label
(26 noun classes, 15 verb classes; names from lexnames(5)); hypernym pointers (``@``, ``@i``) and
their hyponym inverses (``~``, ``~i``) give a taxonomy graph. Offline the files come from the Debian
package ``wordnet-base`` (``/usr/share/wordnet``).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np

from relreps._validation import check_choice
from relreps.datasets.base import DataFormatError, Dataset, how_to_get, locate

__all__ = ["LEXNAMES", "WordNetSynsets", "load_wordnet_glosses", "read_wordnet"]

PathLike = str | os.PathLike[str]

# lexnames(5): lexicographer file number -> name. 3..28 are nouns, 29..43 verbs.
LEXNAMES: tuple[str, ...] = (
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
    "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event",
    "noun.feeling", "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object",
    "noun.person", "noun.phenomenon", "noun.plant", "noun.possession", "noun.process",
    "noun.quantity", "noun.relation", "noun.shape", "noun.state", "noun.substance", "noun.time",
    "verb.body", "verb.change", "verb.cognition", "verb.communication", "verb.competition",
    "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
    "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather",
    "adj.ppl",
)  # fmt: skip
_FIRST_LEXFILE = {"noun": 3, "verb": 29}
_N_CLASSES = {"noun": 26, "verb": 15}
_POS_CHAR = {"noun": "n", "verb": "v"}
_HYPERNYM = frozenset({"@", "@i"})
_HYPONYM = frozenset({"~", "~i"})
_HINT = how_to_get(apt="wordnet-base") + (
    " Or pass path= to the `dict` folder of WordNet 3.0 (https://wordnet.princeton.edu/download)."
)


@dataclass(frozen=True, eq=False)
class WordNetSynsets:
    """All synsets of one part of speech, in file (offset) order.

    Attributes:
        pos: ``"noun"`` or ``"verb"``.
        offsets: ``(n_synsets,)`` int64 byte offsets, the synsets' ids in WordNet.
        lexfiles: ``(n_synsets,)`` int64 lexicographer file numbers (indices into ``LEXNAMES``).
        lemmas: the words of each synset (underscores turned into spaces).
        glosses: each synset's gloss: its definition, then any quoted examples.
        hypernym_edges: ``(n_edges, 2)`` int64 rows ``(hyponym, hypernym)`` of synset indices,
            from ``@``/``@i`` pointers and the reverse of ``~``/``~i``, each pair once.
        source: the data file read.
    """

    pos: str
    offsets: np.ndarray
    lexfiles: np.ndarray
    lemmas: tuple[tuple[str, ...], ...]
    glosses: tuple[str, ...]
    hypernym_edges: np.ndarray
    source: str

    def __len__(self) -> int:
        return int(self.offsets.shape[0])

    def ids(self) -> tuple[str, ...]:
        """Stable ids ``"<pos char>:<8-digit offset>"``, e.g. ``"n:00001740"``."""
        char = _POS_CHAR[self.pos]
        return tuple(f"{char}:{int(o):08d}" for o in self.offsets)


def read_wordnet(pos: str = "noun", *, path: PathLike | None = None) -> WordNetSynsets:
    """Parse ``data.noun`` or ``data.verb`` into arrays (parsed once per file and cached).

    Args:
        pos: ``"noun"`` or ``"verb"``.
        path: the data file itself or the folder holding it (default: cache dir, then
            ``/usr/share/wordnet``).

    Returns:
        The :class:`WordNetSynsets` of that part of speech.

    Raises:
        DataNotFoundError: no data file was found (the message says how to install it).
        DataFormatError: a line does not follow the wndb(5) format.

    Example (reads the real data, so it is not a doctest)::

        synsets = read_wordnet("noun")
        len(synsets), synsets.lemmas[0], LEXNAMES[synsets.lexfiles[0]]
        # -> (82115, ('entity',), 'noun.Tops')
    """
    check_choice(pos, "pos", list(_FIRST_LEXFILE))
    found = locate(
        f"data.{pos}", subdir="wordnet", path=path, system_dirs=("/usr/share/wordnet",), hint=_HINT
    )
    stat = found.stat()
    return _parse(str(found.resolve()), pos, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _parse(path: str, pos: str, mtime_ns: int, size: int) -> WordNetSynsets:
    del mtime_ns, size  # part of the cache key only: an edited file is parsed again
    offsets: list[int] = []
    lexfiles: list[int] = []
    lemmas: list[tuple[str, ...]] = []
    glosses: list[str] = []
    down: list[tuple[int, int]] = []  # (hyponym offset, hypernym offset)
    char = _POS_CHAR[pos]
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if line.startswith("  ") or not line.strip():
                continue
            try:
                head, _, gloss = line.partition(" | ")
                fields = head.split()
                offset = int(fields[0])
                lexfile = int(fields[1])
                n_words = int(fields[3], 16)
                words = fields[4 : 4 + 2 * n_words : 2]
                at = 4 + 2 * n_words
                n_pointers = int(fields[at])
                pointers = fields[at + 1 : at + 1 + 4 * n_pointers]
                if len(words) != n_words or len(pointers) != 4 * n_pointers:
                    raise IndexError("fewer fields than counted")
            except (ValueError, IndexError) as err:
                raise DataFormatError(
                    f"Expected line {number} of {path} to be a WordNet synset line (wndb(5)), "
                    f"but could not parse it ({err}): {line[:80]!r}"
                ) from err
            offsets.append(offset)
            lexfiles.append(lexfile)
            lemmas.append(tuple(w.replace("_", " ") for w in words))
            glosses.append(gloss.strip())
            for i in range(0, len(pointers), 4):
                symbol, target, target_pos = pointers[i], int(pointers[i + 1]), pointers[i + 2]
                if target_pos != char:
                    continue
                if symbol in _HYPERNYM:
                    down.append((offset, target))
                elif symbol in _HYPONYM:
                    down.append((target, offset))
    offset_array = np.asarray(offsets, dtype=np.int64)
    lexfile_array = np.asarray(lexfiles, dtype=np.int64)
    first, n_classes = _FIRST_LEXFILE[pos], _N_CLASSES[pos]
    bad = (lexfile_array < first) | (lexfile_array >= first + n_classes)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataFormatError(
            f"Expected every synset in {path} to have a {pos} lexicographer file number in "
            f"[{first}, {first + n_classes - 1}], but synset {offsets[i]:08d} has {lexfiles[i]}."
        )
    edges = _edge_rows(offset_array, down, path)
    for array in (offset_array, lexfile_array, edges):
        array.flags.writeable = False  # the parsed file is cached and shared between callers
    return WordNetSynsets(
        pos, offset_array, lexfile_array, tuple(lemmas), tuple(glosses), edges, path
    )


def _edge_rows(offsets: np.ndarray, pairs: list[tuple[int, int]], path: str) -> np.ndarray:
    """Map (offset, offset) pairs to unique (row, row) pairs; both ends must be synsets here."""
    if not pairs:
        return np.empty((0, 2), dtype=np.int64)
    by_offset = np.asarray(pairs, dtype=np.int64)
    order = np.argsort(offsets)
    rows = np.searchsorted(offsets, by_offset, sorter=order)
    rows = np.minimum(rows, len(offsets) - 1)
    rows = order[rows]
    dangling = offsets[rows] != by_offset
    if dangling.any():
        hypo, hyper = by_offset[np.flatnonzero(dangling.any(axis=1))[0]]
        raise DataFormatError(
            f"Expected every hypernym pointer in {path} to point at a synset in the same file, "
            f"but the pair {hypo:08d} -> {hyper:08d} does not (truncated file?)."
        )
    return np.unique(rows, axis=0)


def load_wordnet_glosses(
    pos: str = "noun", *, path: PathLike | None = None, examples: bool = False
) -> Dataset:
    """WordNet glosses labelled with their supersense (26 noun or 15 verb classes).

    Args:
        pos: ``"noun"`` (82,115 synsets, 26 classes) or ``"verb"`` (13,767 synsets, 15 classes).
        path: ``data.noun`` / ``data.verb`` or the folder holding it.
        examples: keep the quoted usage examples after the definition (they often contain the
            synset's own words, an easy clue); default: the definition only.

    Returns:
        A :class:`Dataset` (split ``"all"``) whose items are gloss strings, labels index
        ``class_names`` (``"noun.Tops"``, ``"noun.act"``, ...) and ids are ``"n:<offset>"``.

    Example (reads the real data, so it is not a doctest)::

        ds = load_wordnet_glosses()
        ds.items[0], ds.class_names[ds.labels[0]]
        # -> ('that which is perceived or known or inferred to have its own distinct existence
        #    (living or nonliving)', 'noun.Tops')
    """
    synsets = read_wordnet(pos, path=path)
    first = _FIRST_LEXFILE[pos]
    texts = synsets.glosses if examples else tuple(_definition(g) for g in synsets.glosses)
    return Dataset(
        f"wordnet-{pos}-glosses",
        "all",
        texts,
        synsets.lexfiles - first,
        synsets.ids(),
        LEXNAMES[first : first + _N_CLASSES[pos]],
        synsets.source,
    )


def _definition(gloss: str) -> str:
    """The gloss without its usage examples, which follow as ``; "..."`` (or ``: "..."``).

    Quotes inside the definition itself (``in the phrase "make strides"``) are kept.
    """
    cuts = [at for at in (gloss.find('; "'), gloss.find(': "')) if at >= 0]
    return gloss[: min(cuts)].rstrip() if cuts else gloss.rstrip().rstrip(";").rstrip()
