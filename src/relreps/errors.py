"""The library's exception types.

Every error relreps raises on purpose derives from :class:`RelrepsError`, so ``except
RelrepsError`` catches them all; each also keeps the built-in base a caller would expect
(``ValueError`` for bad input or data, ``OSError`` for a missing model, ...). Subclasses exist only
where a caller would catch them apart:

- :class:`NotFittedError` (here): an estimator, translator or index used before ``fit``;
- ``relreps.datasets.DataNotFoundError`` / ``ChecksumError`` / ``DataFormatError``: a data file
  absent, corrupt or malformed;
- ``relreps.encoders.ModelUnavailableError``: a model that cannot be loaded offline;
- ``relreps.align.AlignmentFailedError``: an alignment whose self-consistency check failed;
- ``relreps.nn.StitchingUndefinedError`` / ``AnchorMismatchError``: a stitch that cannot be made;
- ``relreps.distributed.JobFailedError``, ``relreps.report.RunFolderError``, and the command
  line's own errors (a run folder, an array file, a usage error).

Example:
    >>> import numpy as np
    >>> from relreps import RelativeProjector
    >>> from relreps import RelrepsError
    >>> try:
    ...     RelativeProjector().transform(np.ones((2, 2)))
    ... except RelrepsError as err:
    ...     print(type(err).__name__)
    NotFittedError
"""

from __future__ import annotations

__all__ = ["NotFittedError", "RelrepsError"]


class RelrepsError(Exception):
    """The base of every exception relreps raises on purpose (see the module docstring)."""


class NotFittedError(RelrepsError, ValueError, AttributeError):
    """An estimator, translator or index was used before ``fit``.

    A ``ValueError`` and an ``AttributeError``, as scikit-learn's: code that catches either (or
    ``sklearn.exceptions.NotFittedError``'s bases) keeps working.

    Example:
        >>> import numpy as np
        >>> from relreps import NotFittedError, RelativeProjector
        >>> try:
        ...     RelativeProjector().transform(np.ones((2, 2)))
        ... except NotFittedError as err:
        ...     print(err)
        This RelativeProjector is not fitted yet: call fit(anchors) before transform(x).
    """
