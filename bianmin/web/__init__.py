"""`bianmin serve`: the web workbench on top of the errands ledger.

Dispatchers under ``/dispatch/`` (login), the JSON API under ``/api/`` (login), runners under
``/r/<token>``, citizens' ratings under ``/rate/<token>``, ``/healthz`` open.
See ``README-dev.md`` in this folder for the contract between the modules.
"""

from .app import create_app

__all__ = ["create_app"]
