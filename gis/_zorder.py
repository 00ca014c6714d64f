"""The Z-order (Morton) key: the one place points are put in a locality-preserving order.

Used where nearby points should be handled together: snapping queries (neighbouring queries
share k-d tree nodes in cache) and the chunks of cover-set searches (nearby candidates share a
small union of reach).
"""

from __future__ import annotations

import numpy as np

__all__ = ["zorder_key", "zorder_argsort", "BITS"]

#: Bits per axis of the grid the points are quantised to (2^16 cells a side).
BITS = 16


def _spread(v: np.ndarray) -> np.ndarray:
    """Put the low 16 bits of each value on the even bit positions of a uint64."""
    v = v.astype(np.uint64) & np.uint64(0xFFFF)
    v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
    v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
    v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
    v = (v | (v << np.uint64(1))) & np.uint64(0x55555555)
    return v


def zorder_key(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Morton key of points over their own extent: nearby points get nearby keys.

    Non-finite coordinates are put at the extent's minimum (they sort first).

    Parameters
    ----------
    x, y
        Coordinates (any unit; projected metres in practice).

    Returns
    -------
    numpy.ndarray
        uint64 keys, ``x`` on the even bits and ``y`` on the odd bits.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) == 0:
        return np.zeros(0, dtype=np.uint64)
    finite = np.isfinite(x) & np.isfinite(y)
    x = np.where(finite, x, np.min(x[finite]) if finite.any() else 0.0)
    y = np.where(finite, y, np.min(y[finite]) if finite.any() else 0.0)
    cells = (1 << BITS) - 1
    qx = (x - x.min()) / max(float(np.ptp(x)), 1e-9) * cells
    qy = (y - y.min()) / max(float(np.ptp(y)), 1e-9) * cells
    return _spread(qx) | (_spread(qy) << np.uint64(1))


def zorder_argsort(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices that visit the points along the Z curve (stable for equal keys)."""
    return np.argsort(zorder_key(x, y), kind="stable")
