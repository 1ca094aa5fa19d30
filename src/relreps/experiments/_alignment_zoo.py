"""The image-zoo pairs of the ``alignment`` experiment: two frozen Fashion-MNIST encoders.

The encoders are those of ``vision-stitching``'s protocol (a)
(:func:`relreps.experiments._vision_frozen.train_frozen_zoo`): each is trained once as a
classifier under its own head seed, saved in the run folder (reloaded on a rerun) and frozen.
Both encoders of a pair embed the same test images, so row ``i`` of X and row ``i`` of Y are the
same image (the ground truth of the alignment) and the image labels give the stitched accuracy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from relreps._validation import fail
from relreps.experiments._vision_zoo import Arch
from relreps.experiments.base import RunContext

__all__ = ["ZOO_ARCHS", "ZooConfig", "parse_member", "zoo_pairs"]

#: The architectures a zoo member may name (``"<arch>/s<seed offset>"``).
ZOO_ARCHS = {a.name: a for a in (Arch("mlp64", "mlp", 64), Arch("cnn64", "cnn", 64))}


@dataclass(frozen=True)
class ZooConfig:
    """Which frozen encoders are paired, and how they are trained.

    Attributes:
        pairs: (X, Y) members ``"<arch>/s<offset>"``: architecture of :data:`ZOO_ARCHS`, seed
            ``context.seed + offset``.
        n_train: training images of each encoder (stratified subset of the official split).
        n_test: test images embedded by both encoders (the aligned items).
        epochs: training epochs of each encoder.
        dataset: image data set (``fashion-mnist``; sklearn digits when absent).
    """

    pairs: tuple[tuple[str, str], ...] = (("mlp64/s0", "mlp64/s1"), ("mlp64/s0", "cnn64/s1"))
    n_train: int = 60000
    n_test: int = 10000
    epochs: int = 3
    dataset: str = "fashion-mnist"


def parse_member(member: str) -> tuple[Arch, int]:
    """``"cnn64/s1"`` -> (the cnn64 :class:`Arch`, seed offset 1).

    Raises:
        ValueError: not ``"<arch>/s<offset>"`` with a known architecture and offset >= 0.

    Example:
        >>> arch, offset = parse_member("cnn64/s1")
        >>> arch.kind, offset
        ('cnn', 1)
    """
    stem, _, seed = member.partition("/")
    if stem not in ZOO_ARCHS or not seed.startswith("s") or not seed[1:].isdigit():
        raise fail(
            "member", f"'<arch>/s<seed offset>' with arch in {sorted(ZOO_ARCHS)}", repr(member)
        )
    return ZOO_ARCHS[stem], int(seed[1:])


def _embed(encoder: Any, images: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return torch.cat([encoder(b) for b in torch.from_numpy(images).split(2048)]).numpy()


def zoo_pairs(config: ZooConfig, context: RunContext) -> tuple[list[Any], dict[str, Any]]:
    """Train (or reload) the encoders the pairs name; embed the test images with each.

    Returns:
        ``([SpacePair, ...], facts)``: one same-data pair per ``config.pairs`` entry (labels:
        the test labels), and what was trained (seconds, data set, note).
    """
    from relreps.experiments._aeq_common import load_image_split
    from relreps.experiments._vision_frozen import FrozenConfig, train_frozen_zoo
    from relreps.experiments.alignment import SpacePair

    members = {m: parse_member(m) for pair in config.pairs for m in pair}
    data = load_image_split(config.dataset, config.n_train, config.n_test, context.seed)
    if data.note:
        context.log(data.note)
    embedded: dict[str, np.ndarray] = {}
    facts: dict[str, Any] = {"dataset": data.name, "note": data.note, "encoders": {}}
    for member, (arch, offset) in members.items():
        start = time.perf_counter()
        frozen = FrozenConfig(archs=(arch,), seeds=1, n_train=config.n_train,
                              n_test=config.n_test, encoder_epochs=config.epochs)  # fmt: skip
        # train_frozen_zoo seeds member s of a run with context.seed + s.
        encoders, trained = train_frozen_zoo(
            frozen, data, replace(context, seed=context.seed + offset)
        )
        ((name, encoder),) = encoders.items()
        embedded[member] = _embed(encoder, data.x_test)
        facts["encoders"][member] = {
            "name": name,
            **(trained.get(name) or {}),
            "seconds_with_embedding": round(time.perf_counter() - start, 2),
        }
    pairs = [
        SpacePair(f"{data.name} zoo: {a} vs {b} ({embedded[a].shape[1]}-d, {len(data.y_test)} "
                  "test images)", embedded[a], embedded[b], np.asarray(data.y_test), True)
        for a, b in config.pairs
    ]  # fmt: skip
    return pairs, facts
