"""ONNX Runtime adapter: an exported transformer plus a ``tokenizers`` tokenizer."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from relreps._validation import check_choice, check_int, fail
from relreps.encoders.base import BaseEncoder, check_texts, folder_fingerprint, require
from relreps.encoders.huggingface import POOLINGS, pool_tokens

__all__ = ["OnnxEncoder", "load_tokenizer", "tokenizer_fingerprint"]


class OnnxEncoder(BaseEncoder):
    """Run an ``.onnx`` text model with ONNX Runtime on CPU (or any given providers).

    The model's inputs are fed by name from the tokenizer: ``input_ids``, ``attention_mask``
    and, when the graph asks for it, ``token_type_ids`` (all int64).

    Args:
        model_path: The ``.onnx`` file.
        tokenizer: A ``tokenizers.Tokenizer`` or a ``tokenizer.json`` path (it is copied, so
            padding/truncation set here never leak into the caller's object).
        output_name: Graph output holding the embedding; ``None`` takes the first output.
        pooling: ``"none"`` when that output is already ``(batch, dim)``; else ``"mean"``,
            ``"cls"`` or ``"last"`` to pool a ``(batch, seq, dim)`` token output.
        max_length: Truncate longer inputs (tokens).
        normalize: L2-normalise each embedding.
        providers: ONNX Runtime execution providers (default CPU).
        name: Identifier; defaults to the file name.
        version: Overrides the automatic version (file fingerprint).

    Example:
        >>> from relreps.encoders.registry import minilm_l3_onnx_files
        >>> onnx_file, tokenizer_file = minilm_l3_onnx_files()
        >>> enc = OnnxEncoder(onnx_file, tokenizer_file, output_name="461")
        >>> enc.encode(["a cat"]).shape
        (1, 384)
    """

    length_sorted = True

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        tokenizer: Any,
        *,
        output_name: str | None = None,
        pooling: str = "none",
        max_length: int = 128,
        normalize: bool = False,
        providers: Sequence[str] | None = None,
        name: str | None = None,
        version: str | None = None,
    ) -> None:
        ort = require("onnxruntime", "text")
        path = Path(model_path)
        if not path.is_file():
            raise fail("model_path", "an existing .onnx file", repr(str(model_path)))
        pooling = check_choice(pooling, "pooling", ("none", *POOLINGS))
        max_length = check_int(max_length, "max_length", low=1)
        self.tokenizer = load_tokenizer(tokenizer, max_length=max_length)
        self.session = ort.InferenceSession(
            str(path), providers=list(providers or ["CPUExecutionProvider"])
        )
        outputs = {o.name: o for o in self.session.get_outputs()}
        if output_name is None:
            output_name = next(iter(outputs))
        if output_name not in outputs:
            raise fail(
                "output_name", f"one of the graph outputs {sorted(outputs)}", repr(output_name)
            )
        shape = outputs[output_name].shape
        want_rank = 2 if pooling == "none" else 3
        if len(shape) != want_rank:
            raise ValueError(
                f"Expected output {output_name!r} to have rank {want_rank} for pooling="
                f"{pooling!r}, but its shape is {shape}."
            )
        dim = shape[-1] if isinstance(shape[-1], int) else None
        self.input_names = [i.name for i in self.session.get_inputs()]
        super().__init__(
            name=name or path.stem,
            dim=dim,
            version=version or folder_fingerprint(path),
            options={
                "tokenizer": tokenizer_fingerprint(self.tokenizer),
                "output_name": output_name,
                "pooling": pooling,
                "max_length": max_length,
                "normalize": bool(normalize),
            },
        )
        self.output_name = output_name
        self.pooling = pooling
        self.normalize = bool(normalize)

    def _encode_batch(self, batch: Sequence[Any]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(check_texts(batch))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        available = {
            "input_ids": ids,
            "attention_mask": mask,
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        missing = [n for n in self.input_names if n not in available]
        if missing:
            raise ValueError(
                f"ONNX model {self.name!r} needs inputs {missing} that a text tokenizer does not "
                "provide; wrap it with CallableEncoder instead."
            )
        (out,) = self.session.run([self.output_name], {n: available[n] for n in self.input_names})
        out = np.asarray(out, dtype=np.float32)
        if self.pooling != "none":
            out = pool_tokens(out, mask, self.pooling)
        if self.normalize:
            out = out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out


def tokenizer_fingerprint(tokenizer: Any) -> str:
    """Short hash of a ``tokenizers.Tokenizer``'s full JSON (vocabulary, rules, settings)."""
    return hashlib.sha256(tokenizer.to_str().encode()).hexdigest()[:16]


def load_tokenizer(tokenizer: Any, *, max_length: int | None = None, padding: bool = True) -> Any:
    """A private copy of a ``tokenizers.Tokenizer`` (or one read from ``tokenizer.json``).

    Args:
        tokenizer: A ``tokenizers.Tokenizer`` or a path to a ``tokenizer.json`` file.
        max_length: Truncate to this many tokens; ``None`` turns truncation off.
        padding: Pad each batch to its longest item (needed for tensor inputs).

    Example:
        >>> from relreps.encoders.registry import minilm_l3_onnx_files
        >>> tok = load_tokenizer(minilm_l3_onnx_files()[1], max_length=8)
        >>> tok.encode("hello world").tokens
        ['[CLS]', 'hello', 'world', '[SEP]']
    """
    Tokenizer = require("tokenizers", "text").Tokenizer
    if isinstance(tokenizer, Tokenizer):
        copy = Tokenizer.from_str(tokenizer.to_str())
    elif isinstance(tokenizer, str | os.PathLike):
        path = Path(tokenizer)
        if not path.is_file():
            raise fail(
                "tokenizer",
                "a tokenizers.Tokenizer or an existing tokenizer.json",
                repr(str(tokenizer)),
            )
        copy = Tokenizer.from_file(str(path))
    else:
        raise fail(
            "tokenizer",
            "a tokenizers.Tokenizer or a tokenizer.json path",
            type(tokenizer).__name__,
            TypeError,
        )
    if max_length is None:
        copy.no_truncation()
    else:
        copy.enable_truncation(max_length=max_length)
    if padding:
        pad_id = copy.padding["pad_id"] if copy.padding else 0
        pad_token = copy.padding["pad_token"] if copy.padding else (copy.id_to_token(0) or "[PAD]")
        copy.enable_padding(pad_id=pad_id, pad_token=pad_token)
    else:
        copy.no_padding()
    return copy
