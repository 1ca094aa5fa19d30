"""Parallel data: the same items named in several languages (anchors across language spaces).

- FreeDict English-French (Debian ``dict-freedict-eng-fra``): 8,805 entries; each entry's first line
  is the headword and its pronunciation, the following lines its translations (numbered senses,
  alternatives separated by commas). Other ``dict-freedict-<src>-<tgt>`` packages read the same way.
- ``emoji``: the CLDR short name of each emoji in 14 languages.
- ``babel``: country (territory) and language names in any CLDR locale.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from relreps._validation import fail
from relreps.datasets.base import how_to_get, locate
from relreps.datasets.corpus import read_dictd
from relreps.datasets.words import WordVectors

if TYPE_CHECKING:
    from relreps.anchors import ParallelAnchors

__all__ = [
    "PhraseSet",
    "align_word_pairs",
    "babel_names",
    "emoji_names",
    "freedict_anchors",
    "freedict_entries",
    "freedict_pairs",
]

PathLike = str | os.PathLike[str]
_SENSE_NUMBER = re.compile(r"^\d+\.\s*")
_PRONUNCIATION = re.compile(r"\s*/[^/]*/\s*$")


def freedict_entries(
    pair: str = "eng-fra", *, path: PathLike | None = None
) -> list[tuple[str, tuple[str, ...]]]:
    """``(headword, translations)`` for every entry of a FreeDict dictd dictionary.

    Args:
        pair: the language pair in FreeDict's naming, e.g. ``"eng-fra"``, ``"deu-eng"``.
        path: a folder holding ``freedict-<pair>.index`` and ``freedict-<pair>.dict.dz``
            (default: cache dir, then ``/usr/share/dictd`` from ``dict-freedict-<pair>``).

    Returns:
        One tuple per entry: the headword as printed (case kept) and its translations in order.

    Example (reads the real data, so it is not a doctest)::

        entries = freedict_entries()
        dict(entries)["abacus"]
        # -> ('abaque', 'boulier')
    """
    if not isinstance(pair, str) or not re.fullmatch(r"[a-z]{3}-[a-z]{3}", pair):
        raise fail("pair", "a FreeDict language pair such as 'eng-fra'", repr(pair))
    hint = how_to_get(apt=f"dict-freedict-{pair}") + (
        f" Or download freedict-{pair} (dictd format) from https://freedict.org/downloads/ and "
        "pass path= to its folder."
    )
    found = [
        locate(
            f"freedict-{pair}.{ext}",
            subdir="dictd",
            path=path,
            system_dirs=("/usr/share/dictd",),
            hint=hint,
        )
        for ext in ("index", "dict.dz")
    ]
    out = []
    for _, text in read_dictd(found[0], found[1]):
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        if not lines:
            continue
        headword = _PRONUNCIATION.sub("", lines[0])
        translations: list[str] = []
        for line in lines[1:]:
            for alternative in _SENSE_NUMBER.sub("", line).split(","):
                alternative = alternative.strip()
                if alternative and alternative not in translations:
                    translations.append(alternative)
        out.append((headword, tuple(translations)))
    return out


def freedict_pairs(
    pair: str = "eng-fra",
    *,
    path: PathLike | None = None,
    single_words: bool = True,
    lowercase: bool = True,
    first_translation_only: bool = False,
) -> list[tuple[str, str]]:
    """Distinct ``(source word, target word)`` pairs from a FreeDict dictionary.

    Args:
        pair: the language pair, e.g. ``"eng-fra"``.
        path: folder holding the dictd files (see :func:`freedict_entries`).
        single_words: keep only pairs where both sides are one alphabetic word (``isalpha``;
            accents are letters) - about 4,300 pairs for eng-fra with ``first_translation_only``.
        lowercase: lower-case both sides (GloVe is lower-case).
        first_translation_only: keep only each headword's first listed translation.

    Returns:
        Pairs in dictionary order, each once.

    Example (reads the real data, so it is not a doctest)::

        pairs = freedict_pairs()
        ("abacus", "abaque") in pairs
        # -> True
    """
    out: dict[tuple[str, str], None] = {}
    for headword, translations in freedict_entries(pair, path=path):
        chosen = translations[:1] if first_translation_only else translations
        for translation in chosen:
            src, tgt = (
                (headword.lower(), translation.lower()) if lowercase else (headword, translation)
            )
            if single_words and not (src.isalpha() and tgt.isalpha()):
                continue
            out[(src, tgt)] = None
    return list(out)


def freedict_anchors(
    pair: str = "eng-fra",
    *,
    path: PathLike | None = None,
    vocabularies: tuple[Sequence[str], Sequence[str]] | None = None,
    lowercase: bool = True,
) -> ParallelAnchors:
    """One-to-one word anchors from a FreeDict dictionary, as ``relreps.anchors.ParallelAnchors``.

    Each headword takes its first listed translation that is still free (and present in the
    target vocabulary when ``vocabularies`` is given); single alphabetic words only.

    Args:
        pair: the language pair, e.g. ``"eng-fra"``; also the two domain names.
        path: folder holding the dictd files (see :func:`freedict_entries`).
        vocabularies: optional ``(source words, target words)``, e.g.
            ``(glove.words, fasttext.words)``: pairs outside them are skipped.
        lowercase: lower-case both sides.

    Example (reads the real data, so it is not a doctest)::

        anchors = freedict_anchors(vocabularies=(load_glove().words, load_fasttext_fr().words))
        len(anchors), anchors.domains
        # -> (3385, ('eng', 'fra'))
    """
    from relreps.anchors import ParallelAnchors

    pairs = freedict_pairs(pair, path=path, lowercase=lowercase)
    return ParallelAnchors.from_pairs(
        pairs, domains=tuple(pair.split("-")), vocabularies=vocabularies
    )


def align_word_pairs(
    pairs: list[tuple[str, str]],
    source: WordVectors,
    target: WordVectors,
    *,
    one_to_one: bool = True,
) -> tuple[list[tuple[str, str]], np.ndarray, np.ndarray]:
    """Keep the pairs whose words are in both spaces; return them with their paired vectors.

    Row ``i`` of both arrays is pair ``i``: the input of parallel anchors across two spaces.

    Args:
        pairs: ``(source word, target word)`` pairs, e.g. from :func:`freedict_pairs`.
        source: the space of the first words, ``(n_words_s, dim_s)``.
        target: the space of the second words, ``(n_words_t, dim_t)``.
        one_to_one: keep only the first pair of each source word and of each target word, so no
            word appears twice (duplicated anchors carry no extra information).

    Returns:
        ``(kept_pairs, x_source (n_pairs, dim_s), x_target (n_pairs, dim_t))``.

    Example:
        >>> en = WordVectors("en", ("cat", "dog"), np.eye(2, dtype=np.float32), "memory")
        >>> fr = WordVectors("fr", ("chat", "chien"), 2 * np.eye(2, dtype=np.float32), "memory")
        >>> kept, xs, xt = align_word_pairs([("dog", "chien"), ("cow", "vache"),
        ...                                  ("dog", "toutou"), ("cat", "chat")], en, fr)
        >>> kept, xs.shape, xt[0].tolist()
        ([('dog', 'chien'), ('cat', 'chat')], (2, 2), [0.0, 2.0])
    """
    for name, space in (("source", source), ("target", target)):
        if not isinstance(space, WordVectors):
            raise fail(name, "a WordVectors", type(space).__name__, TypeError)
    kept: list[tuple[str, str]] = []
    seen_source: set[str] = set()
    seen_target: set[str] = set()
    for pair in pairs:
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise fail("pairs", "a list of (source word, target word) pairs", f"item {pair!r}")
        src, tgt = pair
        if src not in source or tgt not in target:
            continue
        if one_to_one and (src in seen_source or tgt in seen_target):
            continue
        seen_source.add(src)
        seen_target.add(tgt)
        kept.append((src, tgt))
    return kept, source.take(s for s, _ in kept), target.take(t for _, t in kept)


@dataclass(frozen=True, eq=False)
class PhraseSet:
    """The same ``keys`` named in several languages: ``phrases[lang][i]`` names ``keys[i]``.

    Example:
        >>> ps = PhraseSet("toy", ("FR",), {"en": ("France",), "de": ("Frankreich",)}, "memory")
        >>> ps.pairs("en", "de")
        [('France', 'Frankreich')]
    """

    name: str
    keys: tuple[str, ...]
    phrases: dict[str, tuple[str, ...]]
    source: str

    def __post_init__(self) -> None:
        for lang, names in self.phrases.items():
            if len(names) != len(self.keys):
                raise fail(
                    f"phrases[{lang!r}]", f"{len(self.keys)} phrases (one per key)", f"{len(names)}"
                )

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages present."""
        return tuple(self.phrases)

    def pairs(self, source: str, target: str) -> list[tuple[str, str]]:
        """``(source phrase, target phrase)`` for every key."""
        for name, lang in (("source", source), ("target", target)):
            if lang not in self.phrases:
                raise fail(name, f"one of {list(self.phrases)}", repr(lang))
        return list(zip(self.phrases[source], self.phrases[target], strict=True))

    def to_parallel_anchors(self, languages: Sequence[str] | None = None) -> ParallelAnchors:
        """The phrases as ``relreps.anchors.ParallelAnchors``, one domain per language.

        Keys whose phrase is not unique within some language are left out (an anchor must be
        identifiable in every domain).

        Example:
            >>> ps = PhraseSet("toy", ("a", "b", "c"), {"en": ("one", "two", "two"),
            ...                                         "fr": ("un", "deux", "deux bis")}, "m")
            >>> ps.to_parallel_anchors().keys
            (('one',), ('un',))
        """
        chosen = tuple(self.phrases) if languages is None else tuple(languages)
        for lang in chosen:
            if lang not in self.phrases:
                raise fail("languages", f"languages among {list(self.phrases)}", repr(lang))
        from relreps.anchors import ParallelAnchors

        unique = [i for i in range(len(self.keys))]
        for lang in chosen:
            names = self.phrases[lang]
            counts: dict[str, int] = {}
            for name in names:
                counts[name] = counts.get(name, 0) + 1
            unique = [i for i in unique if counts[names[i]] == 1]
        key_lists = [[self.phrases[lang][i] for i in unique] for lang in chosen]
        return ParallelAnchors.from_aligned(*key_lists, domains=chosen)

    def to_dict(self) -> dict[str, Any]:
        """Metadata as plain JSON types."""
        return {
            "name": self.name,
            "n_keys": len(self),
            "languages": list(self.languages),
            "source": self.source,
        }


def emoji_names(languages: tuple[str, ...] = ("en", "fr", "es", "de")) -> PhraseSet:
    """CLDR short names of every fully-qualified emoji in each of ``languages``.

    Args:
        languages: codes among the ``emoji`` package's languages (``emoji.LANGUAGES``).

    Returns:
        A :class:`PhraseSet` keyed by the emoji characters; names have ``_`` turned to spaces
        and the surrounding colons removed, e.g. ``"grinning face"`` / ``"visage rieur"``.

    Example:
        >>> ps = emoji_names(("en", "fr"))
        >>> len(ps) > 3000, ps.languages
        (True, ('en', 'fr'))
    """
    try:
        import emoji
    except ImportError as err:
        raise ImportError("emoji_names needs the emoji package: pip install emoji") from err
    known = list(emoji.LANGUAGES)
    if not languages or any(lang not in known for lang in languages):
        raise fail("languages", f"a non-empty tuple of codes among {known}", repr(languages))
    for lang in languages:
        emoji.config.load_language(lang)  # the package loads non-English names on demand
    fully_qualified = emoji.STATUS["fully_qualified"]
    keys = tuple(
        e
        for e, data in emoji.EMOJI_DATA.items()
        if data.get("status") == fully_qualified and all(lang in data for lang in languages)
    )
    phrases = {
        lang: tuple(emoji.EMOJI_DATA[e][lang].strip(":").replace("_", " ") for e in keys)
        for lang in languages
    }
    return PhraseSet("emoji-cldr", keys, phrases, f"emoji {emoji.__version__}")


def babel_names(
    kind: str = "territories", languages: tuple[str, ...] = ("en", "fr", "es", "de")
) -> PhraseSet:
    """Country or language names from CLDR (via ``babel``) in each of ``languages``.

    Args:
        kind: ``"territories"`` (countries; numeric region codes are left out) or ``"languages"``.
        languages: CLDR locale codes, e.g. ``("en", "fr", "ja")``.

    Returns:
        A :class:`PhraseSet` keyed by the CLDR codes every locale names (``"FR"``, ``"de"``...).

    Example:
        >>> ps = babel_names("territories", ("en", "fr"))
        >>> ps.phrases["fr"][ps.keys.index("DE")]
        'Allemagne'
    """
    if kind not in ("territories", "languages"):
        raise fail("kind", "one of ['territories', 'languages']", repr(kind))
    try:
        from babel import Locale, UnknownLocaleError
    except ImportError as err:
        raise ImportError("babel_names needs babel: pip install babel") from err
    if not languages:
        raise fail("languages", "a non-empty tuple of locale codes", repr(languages))
    tables = {}
    for lang in languages:
        try:
            tables[lang] = dict(getattr(Locale.parse(lang), kind))
        except (UnknownLocaleError, ValueError, TypeError) as err:
            raise fail("languages", "CLDR locale codes", f"{lang!r} ({err})") from err
    shared = set.intersection(*(set(t) for t in tables.values()))
    keys = tuple(sorted(k for k in shared if kind == "languages" or k.isalpha()))
    phrases = {lang: tuple(tables[lang][k] for k in keys) for lang in languages}
    import babel

    return PhraseSet(f"cldr-{kind}", keys, phrases, f"babel {babel.__version__}")
