"""bianmin (便民): plan government service outlets, publish the service map, route the runners.

The command line lives in :mod:`bianmin.cli`; the library in the packages ``gis``, ``routing``
and ``maps``.
"""

__version__ = "0.1.0"
