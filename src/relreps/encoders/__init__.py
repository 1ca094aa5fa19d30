"""Encoders: turn items (texts, words, images) into absolute embedding spaces.

Every encoder follows one protocol (:class:`Encoder`: ``name``, ``dim``,
``encode(items, *, batch_size) -> (n_items, dim) float32``). Adapters wrap sentence-transformers,
``transformers`` AutoModels, ONNX Runtime, static token/word vectors, spaCy vectors, torch
modules and plain callables; :func:`load_encoder` builds the named models of the registry
(offline packages first); :func:`cached_encode` stores embeddings on disk.

Importing this package imports no model library: each adapter imports its own on first use.
"""

from relreps.encoders.base import (
    BaseEncoder,
    Encoder,
    ModelUnavailableError,
    encoder_identity,
)
from relreps.encoders.cache import (
    CACHE_ENV_VAR,
    CacheCorruptionWarning,
    CacheKey,
    EmbeddingCache,
    cached_encode,
    default_cache_dir,
)
from relreps.encoders.generic import CallableEncoder, TorchModuleEncoder
from relreps.encoders.huggingface import (
    POOLINGS,
    SentenceTransformerEncoder,
    TransformersEncoder,
    pool_tokens,
)
from relreps.encoders.onnx import OnnxEncoder, load_tokenizer
from relreps.encoders.registry import (
    ModelInfo,
    ModelSpec,
    get_model_spec,
    list_models,
    load_encoder,
    model_names,
)
from relreps.encoders.static import (
    SpacyVectorEncoder,
    TokenEmbeddingEncoder,
    WordVectorEncoder,
)

__all__ = [
    "CACHE_ENV_VAR",
    "POOLINGS",
    "BaseEncoder",
    "CacheCorruptionWarning",
    "CacheKey",
    "CallableEncoder",
    "EmbeddingCache",
    "Encoder",
    "ModelInfo",
    "ModelSpec",
    "ModelUnavailableError",
    "OnnxEncoder",
    "SentenceTransformerEncoder",
    "SpacyVectorEncoder",
    "TokenEmbeddingEncoder",
    "TorchModuleEncoder",
    "TransformersEncoder",
    "WordVectorEncoder",
    "cached_encode",
    "default_cache_dir",
    "encoder_identity",
    "get_model_spec",
    "list_models",
    "load_encoder",
    "load_tokenizer",
    "model_names",
    "pool_tokens",
]
