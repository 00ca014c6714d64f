"""The errands ledger: errands, runners, plans and their events in a database.

SQLite by default (``sqlite:///path``: a file, nothing to start), PostgreSQL when several people
work at once (``postgresql+psycopg://…``); the same models and Alembic migrations for both.

>>> from routing.ledger import Ledger, IntakeRules            # doctest: +SKIP
>>> led = Ledger("sqlite:///ledger.db")                        # migrates an empty file
>>> led.import_errands("errands.csv", day, IntakeRules.from_region(reg))
>>> led.record(day, "E001", "picked_up")
"""

from .db import LedgerError, engine_for, head_revision, upgrade
from .store import EventInfo, IntakeRules, Ledger, errand_frame, runner_frame

__all__ = ["Ledger", "IntakeRules", "EventInfo", "LedgerError", "upgrade", "engine_for",
           "head_revision", "errand_frame", "runner_frame"]
