"""Which of some registry encoders this machine can build offline, each missing one with why."""

from __future__ import annotations

from collections.abc import Sequence

from relreps._validation import fail
from relreps.encoders.base import BaseEncoder
from relreps.encoders.registry import list_models, load_encoder

__all__ = ["load_offline_encoders"]


def load_offline_encoders(names: Sequence[str]) -> tuple[dict[str, BaseEncoder], dict[str, str]]:
    """Build the named registry encoders from their offline packages; report the rest.

    An encoder is left out, not raised, when it is not in the registry, when its offline
    package is not installed (nothing is fetched), or when building it fails (a broken install),
    so that a run can go on with the others.

    Args:
        names: registry names (:func:`relreps.encoders.model_names`), distinct.

    Returns:
        ``(built, missing)``: name -> encoder for those built, in the order of ``names``, and
        name -> the reason for the others (``"offline package missing (pip install ...)"``,
        ``"not in the registry"`` or ``"failed to load: <error>"``).

    Raises:
        TypeError: ``names`` is a string or holds something other than strings.
        ValueError: repeated names.

    Example:
        >>> built, missing = load_offline_encoders(["wordllama", "no-such-model"])
        >>> list(built), missing
        (['wordllama'], {'no-such-model': 'not in the registry'})
    """
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise fail("names", "a sequence of registry names", repr(names), TypeError)
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise fail(f"names[{i}]", "a registry name (str)", type(name).__name__, TypeError)
    if len(set(names)) != len(names):
        raise fail("names", "distinct names", repr(list(names)))
    infos = {info.spec.name: info for info in list_models()}
    built: dict[str, BaseEncoder] = {}
    missing: dict[str, str] = {}
    for name in names:
        info = infos.get(name)
        if info is None:
            missing[name] = "not in the registry"
        elif not info.available_offline:
            missing[name] = f"offline package missing (pip install {', '.join(info.missing)})"
        else:
            try:
                built[name] = load_encoder(name, offline=True)
            except Exception as err:  # a broken install: say so, let the caller go on
                missing[name] = f"failed to load: {type(err).__name__}: {err}"
    return built, missing
