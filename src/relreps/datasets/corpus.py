"""An English text corpus for training word vectors offline: GCIDE + WordNet glosses.

GCIDE (the GNU Collaborative International Dictionary of English, Debian ``dict-gcide``) is stored
in the dictd format: a ``.index`` file (headword, base64 offset, base64 length per line) and a
gzip-compressed ``.dict.dz`` data file. Its markup (pronunciations between backslashes, braces
around cross-references, bracketed sources, etymologies and accent codes) is stripped before the
text is split into paragraphs of lower-case word tokens, the input gensim's Word2Vec and FastText
expect. WordNet glosses (Debian ``wordnet-base``) add about 1.5M tokens.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relreps._validation import check_int, fail
from relreps.datasets.base import DataFormatError, how_to_get, locate

__all__ = [
    "Corpus",
    "gcide_paragraphs",
    "load_corpus",
    "read_dictd",
    "strip_gcide_markup",
    "tokenize",
    "wordnet_gloss_paragraphs",
]

PathLike = str | os.PathLike[str]
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_VALUE = {c: i for i, c in enumerate(_B64)}
_DICTD_DIRS = ("/usr/share/dictd",)
_WORD = re.compile(r"[^\W\d_]+")
_PRONUNCIATION = re.compile(r"\\[^\\\n]*\\")
_NOTE = re.compile(r"\[[^\[\]]*[\s.\d][^\[\]]*\]")  # sources, etymologies, [Obs.], [1913 Webster]
_ACCENT = re.compile(r"\[([^\[\]\s]{1,6})\]")  # accent codes such as [=a], [i^], ['e], [ae]
_PARAGRAPH = re.compile(r"\n\s*\n")


def _b64(text: str, where: str) -> int:
    value = 0
    for char in text:
        digit = _B64_VALUE.get(char)
        if digit is None:
            raise DataFormatError(f"Expected a base64 number in {where}, but got {text!r}.")
        value = value * 64 + digit
    return value


def read_dictd(index: PathLike, data: PathLike) -> list[tuple[str, str]]:
    """All ``(headword, entry text)`` pairs of a dictd dictionary, in index order.

    The ``00database...``/``00-database...`` metadata entries are left out.

    Args:
        index: the ``.index`` file (``headword<TAB>base64 offset<TAB>base64 length`` lines).
        data: the ``.dict.dz`` (gzip) or plain ``.dict`` data file.

    Raises:
        DataFormatError: a malformed index line, an entry outside the data, or a truncated gzip.

    Example:
        >>> import gzip, tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "d.dict.dz").write_bytes(gzip.compress(b"cat\\nchat\\n"))
        >>> _ = (folder / "d.index").write_text("cat\\tA\\tJ\\n")
        >>> read_dictd(folder / "d.index", folder / "d.dict.dz")
        [('cat', 'cat\\nchat\\n')]
    """
    index, data = Path(index), Path(data)
    raw = data.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as err:
            raise DataFormatError(
                f"Expected {data} to be a complete gzip (dictzip) file, but it is truncated or "
                f"corrupt ({err})."
            ) from err
    entries = []
    with open(index, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            parts = line.rstrip("\n").split("\t")
            where = f"line {number} of {index}"
            if len(parts) < 3:
                raise DataFormatError(
                    f"Expected {where} to be 'headword<TAB>offset<TAB>length', but got {line!r}."
                )
            headword = parts[0]
            if headword.startswith(("00database", "00-database")):
                continue
            start, length = _b64(parts[1], where), _b64(parts[2], where)
            if start + length > len(raw):
                raise DataFormatError(
                    f"Expected the entry at {where} to lie inside {data} ({len(raw)} bytes), but "
                    f"it ends at byte {start + length} (truncated data file?)."
                )
            entries.append((headword, raw[start : start + length].decode("utf-8", "replace")))
    return entries


def strip_gcide_markup(text: str) -> str:
    r"""GCIDE entry text without pronunciations, bracketed notes, accent codes and braces.

    Example:
        >>> strip_gcide_markup('Coagulate \\Co*ag"u*late\\, v. t. [L. coagulatus.] See {Cogent}.')
        'Coagulate , v. t.  See Cogent.'
    """
    text = _PRONUNCIATION.sub("", text)
    text = _NOTE.sub("", text)
    text = _ACCENT.sub(_accent_letters, text)
    return text.replace("{", "").replace("}", "")


def _accent_letters(match: re.Match[str]) -> str:
    letters = re.sub(r"[^A-Za-z]", "", match.group(1))
    return letters if len(letters) <= 2 else letters[:1]  # [imac] -> i, [ae] -> ae


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens (runs of letters; digits and punctuation split them).

    Example:
        >>> tokenize("Curd-like; as, Rennet's 2 clots.")
        ['curd', 'like', 'as', 'rennet', 's', 'clots']
    """
    return _WORD.findall(text.lower())


def _paragraph_tokens(texts: Iterable[str], intern: dict[str, str]) -> list[list[str]]:
    out = []
    for text in texts:
        for para in _PARAGRAPH.split(text):
            tokens = [intern.setdefault(t, t) for t in tokenize(para)]  # share equal strings
            if tokens:
                out.append(tokens)
    return out


def gcide_paragraphs(*, path: PathLike | None = None) -> list[list[str]]:
    """GCIDE as paragraphs of lower-case tokens, markup stripped (~4.4M tokens).

    Args:
        path: a folder holding ``gcide.index`` and ``gcide.dict.dz`` (default: cache dir, then
            ``/usr/share/dictd`` from the Debian package ``dict-gcide``).

    Returns:
        A list of token lists, one per paragraph of each dictionary entry.

    Example (reads the real data, so it is not a doctest)::

        paragraphs = gcide_paragraphs()
        sum(map(len, paragraphs)) > 4_000_000
        # -> True
    """
    return _paragraph_tokens(_gcide_texts(path), {})


def _gcide_texts(path: PathLike | None) -> list[str]:
    hint = how_to_get(apt="dict-gcide")
    found = {
        name: locate(name, subdir="dictd", path=path, system_dirs=_DICTD_DIRS, hint=hint)
        for name in ("gcide.index", "gcide.dict.dz")
    }
    entries = read_dictd(found["gcide.index"], found["gcide.dict.dz"])
    # Several headwords may point at one block of text: keep each block once.
    blocks = dict.fromkeys(text for _, text in entries)
    return [strip_gcide_markup(t) for t in blocks]


def wordnet_gloss_paragraphs(
    *,
    path: PathLike | None = None,
    parts_of_speech: tuple[str, ...] = ("noun", "verb", "adj", "adv"),
) -> list[list[str]]:
    """Every WordNet gloss (definition and examples) as a list of lower-case tokens.

    Args:
        path: the WordNet ``dict`` folder (default: cache dir, then ``/usr/share/wordnet``).
        parts_of_speech: which ``data.<pos>`` files to read.

    Example (reads the real data, so it is not a doctest)::

        glosses = wordnet_gloss_paragraphs(parts_of_speech=("verb",))
        glosses[0][:4]
        # -> ['draw', 'air', 'into', 'and']
    """
    return _paragraph_tokens(_gloss_texts(path, parts_of_speech), {})


def _gloss_texts(path: PathLike | None, parts_of_speech: tuple[str, ...]) -> list[str]:
    valid = ("noun", "verb", "adj", "adv")
    if not parts_of_speech or any(p not in valid for p in parts_of_speech):
        raise fail("parts_of_speech", f"a non-empty tuple of {list(valid)}", repr(parts_of_speech))
    hint = how_to_get(apt="wordnet-base")
    texts: list[str] = []
    for pos in parts_of_speech:
        found = locate(
            f"data.{pos}", subdir="wordnet", path=path, system_dirs=("/usr/share/wordnet",),
            hint=hint,
        )  # fmt: skip
        with open(found, encoding="utf-8") as fh:
            texts.extend(
                line.partition(" | ")[2] for line in fh if not line.startswith("  ") and "|" in line
            )
    return texts


@dataclass(frozen=True, eq=False)
class Corpus:
    """Tokenised paragraphs for training word vectors.

    Attributes:
        paragraphs: lists of lower-case tokens (gensim's ``sentences`` argument).
        sources: what went in (``"gcide"``, ``"wordnet"``).
    """

    paragraphs: list[list[str]]
    sources: tuple[str, ...]

    @property
    def n_tokens(self) -> int:
        """Total number of tokens."""
        return sum(len(p) for p in self.paragraphs)

    def word_counts(self, *, min_count: int = 1) -> dict[str, int]:
        """Word -> count for words seen at least ``min_count`` times, most frequent first.

        The keys give a corpus frequency order for :func:`relreps.datasets.filter_words`.
        """
        min_count = check_int(min_count, "min_count", low=1)
        counts = Counter(t for p in self.paragraphs for t in p)
        return {w: c for w, c in counts.most_common() if c >= min_count}

    def to_dict(self) -> dict[str, Any]:
        """Metadata as plain JSON types."""
        return {
            "sources": list(self.sources),
            "n_paragraphs": len(self.paragraphs),
            "n_tokens": self.n_tokens,
        }


def load_corpus(
    *,
    gcide: bool = True,
    wordnet: bool = True,
    gcide_path: PathLike | None = None,
    wordnet_path: PathLike | None = None,
    wordnet_parts_of_speech: tuple[str, ...] = ("noun", "verb", "adj", "adv"),
) -> Corpus:
    """GCIDE paragraphs and/or WordNet glosses, tokenised (about 6M tokens with both).

    Args:
        gcide: include the GCIDE dictionary text.
        wordnet: include all WordNet glosses.
        gcide_path: folder of ``gcide.index`` + ``gcide.dict.dz``.
        wordnet_path: WordNet ``dict`` folder.
        wordnet_parts_of_speech: which ``data.<pos>`` gloss files to include.

    Returns:
        A :class:`Corpus`; equal tokens share one string object to keep memory low.

    Example (reads the real data, so it is not a doctest)::

        corpus = load_corpus(gcide=False)
        corpus.sources, corpus.n_tokens > 1_000_000
        # -> (('wordnet',), True)
    """
    if not (gcide or wordnet):
        raise fail("gcide/wordnet", "at least one source switched on", "both False")
    intern: dict[str, str] = {}
    paragraphs: list[list[str]] = []
    sources = []
    if gcide:
        paragraphs += _paragraph_tokens(_gcide_texts(gcide_path), intern)
        sources.append("gcide")
    if wordnet:
        paragraphs += _paragraph_tokens(_gloss_texts(wordnet_path, wordnet_parts_of_speech), intern)
        sources.append("wordnet")
    return Corpus(paragraphs, tuple(sources))
