"""The one reader of word-vector files: GloVe / word2vec / fastText text, word2vec binary, gzip.

:func:`read_word_vectors` returns a :class:`~relreps.datasets.words.WordVectors`; the encoders
(:class:`relreps.encoders.WordVectorEncoder`) and the word-embedding experiment take that space.

Formats:

- **text**: one ``word v_1 ... v_dim`` per line, separated by single spaces. A first line of two
  integers ``n_words dim`` is the word2vec / fastText (``.vec``) header; without it (GloVe) the
  dimension is read from the first line. A word may itself contain spaces (a few GloVe words do):
  the last ``dim`` fields are the vector.
- **binary**: the original word2vec ``.bin``: the header line, then per word its bytes, a space and
  ``dim`` little-endian float32 values (an optional newline before the next word).
- ``.gz`` files of either are decompressed on the fly.

Such files are usually sorted by corpus frequency, so the result is ``frequency_ranked``. A word
seen again is ignored (the first vector wins).
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np

from relreps._validation import check_choice, check_int
from relreps.datasets.base import DataFormatError
from relreps.datasets.words import WordVectors

__all__ = ["WORD_VECTOR_FORMATS", "read_word_vectors"]

#: ``"text"``: GloVe (no header) and word2vec/fastText ``.vec`` (``n dim`` header) text files;
#: ``"binary"``: the original word2vec ``.bin`` format; ``"auto"``: binary for ``.bin`` files.
WORD_VECTOR_FORMATS: tuple[Literal["auto", "text", "binary"], ...] = ("auto", "text", "binary")


class _Rows:
    """Distinct words and their rows, first vector wins, stopping at ``max_words``."""

    def __init__(self, path: Path, max_words: int | None) -> None:
        self.path = path
        self.max_words = max_words
        self.words: list[str] = []
        self.rows: list[np.ndarray] = []
        self.seen: set[str] = set()
        self.n_read = 0  # vector rows read, repeats included

    @property
    def full(self) -> bool:
        return self.max_words is not None and len(self.words) >= self.max_words

    def add(self, word: str, row: np.ndarray, where: str) -> None:
        if not np.isfinite(row).all():
            raise DataFormatError(
                f"Expected finite numbers {where} of {self.path}, but got NaN or Inf."
            )
        self.n_read += 1
        if word not in self.seen:
            self.seen.add(word)
            self.words.append(word)
            self.rows.append(row)


def read_word_vectors(
    path: str | os.PathLike[str],
    *,
    name: str | None = None,
    max_words: int | None = None,
    format: Literal["auto", "text", "binary"] = "auto",
    encoding: str = "utf-8",
) -> WordVectors:
    """Read a word-vector file (see the module docstring for the formats).

    Args:
        path: the file (``.txt``, ``.vec``, ``.bin``, optionally ``.gz``).
        name: the space's name (default: the file name).
        max_words: read at most this many distinct words (the first ones; files are usually
            sorted by frequency).
        format: ``"auto"`` (binary for ``.bin`` / ``.bin.gz``, text otherwise), ``"text"`` or
            ``"binary"``.
        encoding: the encoding of the words.

    Returns:
        A ``frequency_ranked`` :class:`~relreps.datasets.words.WordVectors`, float32 vectors of
        shape ``(n_words, dim)``, ``source`` the file's path.

    Raises:
        FileNotFoundError: the file does not exist.
        DataFormatError: (a ``ValueError``) an empty or binary-as-text file, a row with the wrong
            number of values, a value that is not a finite number, a header that disagrees with
            the rows (truncated, or more rows than announced), a broken gzip stream; the message
            names the line (text) or the word (binary).

    Example:
        >>> import tempfile
        >>> file = Path(tempfile.mkdtemp()) / "tiny.vec"
        >>> _ = file.write_text("2 3\\ncat 1 0 0\\ndog 0 1 0.5\\n")
        >>> wv = read_word_vectors(file)
        >>> wv.words, wv.vectors[1].tolist(), wv.frequency_ranked
        (('cat', 'dog'), [0.0, 1.0, 0.5], True)
    """
    file = Path(path)
    fmt = check_choice(format, "format", WORD_VECTOR_FORMATS)
    if max_words is not None:
        max_words = check_int(max_words, "max_words", low=1)
    if not file.is_file():
        raise FileNotFoundError(
            f"Expected `path` to be a word-vector file, but {str(file)!r} does not exist."
        )
    if fmt == "auto":
        stem = file.name[:-3] if file.name.endswith(".gz") else file.name
        fmt = "binary" if stem.endswith(".bin") else "text"
    rows = _Rows(file, max_words)
    opener = gzip.open if file.name.endswith(".gz") else open
    try:
        with opener(file, "rb") as handle:
            reader = _read_binary if fmt == "binary" else _read_text
            declared = reader(handle, rows, encoding)  # type: ignore[arg-type]
    except UnicodeDecodeError as err:
        raise DataFormatError(
            f"Expected {file} to be a {encoding} text file (word2vec/fastText .vec or GloVe .txt), "
            "but it looks binary: pass format='binary' for a word2vec .bin file."
        ) from err
    except (EOFError, gzip.BadGzipFile) as err:
        raise DataFormatError(f"Expected {file} to be a complete gzip file, but {err}.") from err
    if not rows.words:
        raise DataFormatError(f"Expected {file} to hold word vectors, but it holds none.")
    if declared is not None and max_words is None and rows.n_read != declared:
        state = "the file is truncated" if rows.n_read < declared else "it holds more rows"
        raise DataFormatError(
            f"Expected {declared} words in {file} (its header says so), but read {rows.n_read}: "
            f"{state}."
        )
    return WordVectors(
        name or file.name, tuple(rows.words), np.stack(rows.rows), str(file), frequency_ranked=True
    )


def _header(parts: list[str]) -> tuple[int, int] | None:
    if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
        return int(parts[0]), int(parts[1])
    return None


def _read_text(handle: BinaryIO, rows: _Rows, encoding: str) -> int | None:
    """Fill ``rows`` from a text file; return the header's word count (None without one)."""
    lines: Iterator[str] = io.TextIOWrapper(handle, encoding=encoding, errors="strict")
    declared: int | None = None
    dim: int | None = None
    path = rows.path
    for number, line in enumerate(lines, 1):
        parts = line.rstrip("\r\n ").split(" ")
        if number == 1 and (header := _header(parts)) is not None:
            declared, dim = header
            continue
        if parts == [""]:
            continue
        if dim is None:
            dim = len(parts) - 1
            if dim < 1:
                raise DataFormatError(
                    f"Expected line {number} of {path} to hold a word and its numbers, but got "
                    f"{line[:60]!r}."
                )
        word = " ".join(parts[: len(parts) - dim])  # a few GloVe words contain spaces
        if len(parts) < dim + 1 or not word:
            raise DataFormatError(
                f"Expected line {number} of {path} to hold a word and {dim} numbers, but got "
                f"{len(parts) - 1} values."
            )
        try:
            row = np.array(parts[len(parts) - dim :], dtype=np.float32)
        except ValueError as err:
            raise DataFormatError(
                f"Expected line {number} of {path} to hold {dim} numbers after the word, but {err}."
            ) from err
        rows.add(word, row, f"on line {number}")
        if rows.full:
            break
    return declared


def _read_binary(handle: BinaryIO, rows: _Rows, encoding: str) -> int | None:
    """Fill ``rows`` from a word2vec binary file; return the header's word count."""
    header = handle.readline().split()
    if len(header) != 2 or not all(p.isdigit() for p in header):
        raise DataFormatError(
            f"Expected {rows.path} (word2vec binary) to start with 'n_words dim', but got "
            f"{b' '.join(header)[:60]!r}."
        )
    n_words, dim = int(header[0]), int(header[1])
    if dim < 1:
        raise DataFormatError(f"Expected a dimension >= 1 in the header of {rows.path}, got 0.")
    data = handle.read()
    pos, width = 0, 4 * dim
    for i in range(n_words):
        while pos < len(data) and data[pos : pos + 1] in (b"\n", b" "):
            pos += 1  # some writers end each vector with a newline
        end = data.find(b" ", pos)
        if end < 0 or end + 1 + width > len(data):
            raise DataFormatError(
                f"Expected {n_words} words in {rows.path} (its header says so), but read {i}: the "
                "file is truncated."
            )
        word = data[pos:end].decode(encoding)
        row = np.frombuffer(data, dtype="<f4", count=dim, offset=end + 1).astype(np.float32)
        rows.add(word, row, f"in the vector of {word!r}")
        pos = end + 1 + width
        if rows.full:
            return None  # stopped early: the count is not checked
    if data[pos:].strip(b"\n "):
        raise DataFormatError(
            f"Expected {n_words} words in {rows.path} (its header says so), but it holds more "
            "bytes after them."
        )
    return n_words
