"""The library's exception types.

:class:`NotFittedError` is raised by every estimator, translator and index used before ``fit``.
"""

from __future__ import annotations

__all__ = ["NotFittedError"]


class NotFittedError(ValueError, AttributeError):
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
