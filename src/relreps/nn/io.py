"""Save and load relreps.nn models without pickle.

A saved model is a folder with two files:

- ``model.safetensors``: every parameter and buffer (including the anchor inputs);
- ``config.json``: the model class, its constructor arguments, the encoder's config, the anchor
  identities and the tensor shapes needed to rebuild it before loading the weights.

Both files are written atomically (temporary file in the same folder, then ``os.replace``), weights
first, so a folder with a ``config.json`` is always complete. Loading reads JSON and safetensors
only: nothing is ever unpickled.
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from relreps._io import atomic_write_bytes
from relreps._validation import fail
from relreps.nn.models import ENCODERS, MODELS
from relreps.nn.projection import RelativeProjection
from relreps.projection_spec import ProjectionSpec

__all__ = ["FORMAT", "load_model", "save_model"]

FORMAT = "relreps.nn.model/1"
WEIGHTS = "model.safetensors"
CONFIG = "config.json"

# Files of the previous version kept the projection options flat in "init" (now one "spec").
_FLAT_SPEC_KEYS = ("similarity", "center", "aggregate", "topk", "power")
# The models no longer take eps: they use the layer's default, which every saved model had.
_MODEL_EPS: float = inspect.signature(RelativeProjection).parameters["eps"].default


def save_model(model: nn.Module, folder: str | os.PathLike[str]) -> Path:
    """Write ``model`` to ``folder`` (created if needed) as safetensors + JSON.

    Args:
        model: a relreps.nn model (RelativeClassifier, AbsoluteAE, ...).
        folder: destination folder; existing files of a previous save are replaced.

    Returns:
        The folder path.

    Raises:
        TypeError: for modules that are not relreps.nn models.
        ValueError: a relative model whose similarity is not the registry's entry of its name
            (its spec could not be named in JSON).

    Example:
        >>> import tempfile
        >>> from relreps.nn.models import AbsoluteClassifier, MLPEncoder
        >>> model = AbsoluteClassifier(MLPEncoder((4,), 8), 3)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     loaded = load_model(save_model(model, tmp))
        >>> type(loaded).__name__
        'AbsoluteClassifier'
    """
    from safetensors.torch import save

    name = type(model).__name__
    if name not in MODELS or not isinstance(model, MODELS[name]):
        raise fail("model", f"one of the relreps.nn models {sorted(MODELS)}", name, TypeError)
    encoder: Any = model.encoder
    encoder_config = encoder.config() if hasattr(encoder, "config") else None
    anchors: Any = model.anchor_inputs
    config = {
        "format": FORMAT,
        "class": name,
        "init": model.config(),
        "encoder": encoder_config,
        "encoder_class": type(encoder).__name__,
        "anchor_ids": model.anchor_ids,
        "anchor_inputs": None
        if anchors is None
        else {"shape": list(anchors.shape), "dtype": str(anchors.dtype).removeprefix("torch.")},
    }
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path / WEIGHTS, save(state, metadata={"format": FORMAT}))
    atomic_write_bytes(path / CONFIG, json.dumps(config, indent=2, sort_keys=True).encode())
    return path


def load_model(folder: str | os.PathLike[str], *, encoder: nn.Module | None = None) -> nn.Module:
    """Rebuild a model saved by :func:`save_model` and load its weights (never unpickles).

    Args:
        folder: the folder given to :func:`save_model`.
        encoder: an encoder instance of the right architecture, needed only when the saved encoder
            is not a built-in (MLPEncoder, CNNEncoder); its weights are overwritten.

    Returns:
        The model, in eval mode.

    Raises:
        FileNotFoundError: missing config or weights.
        ValueError: a config of another format, an unknown model class, weights that do not
            match the rebuilt model, or a file of the previous version (flat projection keys,
            still loaded) whose ``eps`` is not the models' fixed 1e-5.
        TypeError: a custom encoder was saved but none was given.
    """
    from safetensors.torch import load_file

    path = Path(folder)
    for required in (CONFIG, WEIGHTS):
        if not (path / required).is_file():
            raise FileNotFoundError(
                f"Expected a saved relreps.nn model in {path}, but {required} is missing."
            )
    config = json.loads((path / CONFIG).read_text())
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        got = config.get("format") if isinstance(config, dict) else type(config).__name__
        raise fail("config.json", f"a {FORMAT!r} file", repr(got))
    cls = MODELS.get(config.get("class", ""))
    if cls is None:
        raise fail("class", f"one of {sorted(MODELS)}", repr(config.get("class")))
    if encoder is None:
        enc_cfg = dict(config.get("encoder") or {})
        enc_cls = ENCODERS.get(enc_cfg.pop("type", ""))
        if enc_cls is None:
            raise fail(
                "encoder",
                f"an instance of the saved custom encoder {config.get('encoder_class')!r}",
                "None",
                TypeError,
            )
        encoder = enc_cls(**enc_cfg)
    init = dict(config["init"])
    if cls.kind == "relative":
        init = _projection_init(init)
    anchors_meta = config.get("anchor_inputs")
    if anchors_meta is not None:
        dtype = getattr(torch, anchors_meta["dtype"])
        init["anchor_inputs"] = torch.zeros(anchors_meta["shape"], dtype=dtype)
    if config.get("anchor_ids") is not None:
        init["anchor_ids"] = config["anchor_ids"]
    if cls.kind == "relative":
        anchor_inputs = init.pop("anchor_inputs")
        model = cls(encoder, anchor_inputs, **init)
    else:
        model = cls(encoder, **init)
    state = load_file(str(path / WEIGHTS))
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise ValueError(
            f"The weights in {path / WEIGHTS} do not match the saved config: {err}"
        ) from err
    return model.eval()


def _projection_init(init: dict[str, Any]) -> dict[str, Any]:
    """A relative model's saved ``init`` with its ``spec`` dict as a ProjectionSpec.

    Files of the previous version hold the projection options as flat keys (and ``eps``): they
    become the spec. Their ``eps`` must be the default the models now always use.

    Example:
        >>> old = {"n_classes": 3, "similarity": "cosine", "topk": 2, "eps": 1e-5}
        >>> _projection_init(old)
        {'n_classes': 3, 'spec': ProjectionSpec(similarity='cosine', topk=2)}
    """
    init = dict(init)
    flat = {key: init.pop(key) for key in _FLAT_SPEC_KEYS if key in init}
    eps = init.pop("eps", _MODEL_EPS)
    if eps != _MODEL_EPS:
        raise fail(
            "eps",
            f"{_MODEL_EPS!r} in a saved relative model (the models no longer take `eps`: they "
            "use the default of relreps.nn.RelativeProjection)",
            repr(eps),
        )
    if "spec" in init:
        if flat:
            raise fail("init", "a spec or the flat projection keys, not both", repr(sorted(flat)))
        if init["spec"] is not None:
            init["spec"] = ProjectionSpec.from_dict(init["spec"])
    elif flat:
        init["spec"] = ProjectionSpec.from_dict(flat)
    return init
