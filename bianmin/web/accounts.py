"""Accounts (argon2 passwords) and the audit, stored in the ledger's database.

The tables are :class:`routing.ledger.models.UserRow` and ``AuditRow`` (migration 0002).
Nothing personal goes into the audit: user names, actions, days and errand ids only.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from gis.errors import InputError, InputProblem
from routing.ledger import Ledger
from routing.ledger.models import ROLES, AuditRow, UserRow

__all__ = ["User", "add_user", "verify_user", "get_user", "audit", "audit_rows",
           "MIN_PASSWORD", "NAME_RE"]

log = logging.getLogger(__name__)

#: Shortest password accepted.
MIN_PASSWORD = 8
#: What a user name may be (letters of any script, digits, ``._-``; 1–64 characters).
NAME_RE = re.compile(r"^[\w.\-]{1,64}$")
_HASHER = PasswordHasher()
#: A hash verified when the user does not exist (same time whether or not the name is known).
_DUMMY = _HASHER.hash("not a password of anyone")


@dataclass(frozen=True)
class User:
    """A signed-in account."""

    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        """True for ``admin``."""
        return self.role == "admin"


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def add_user(ledger: Ledger, name: str, role: str, password: str, *,
             replace: bool = False) -> User:
    """Create an account (or set its password and role with ``replace``).

    Raises
    ------
    InputError
        A bad name, role or short password, or a name taken (without ``replace``).
    """
    problems = []
    if not NAME_RE.match(name or ""):
        problems.append(InputProblem("NAME", None, None, f"{name!r}: letters, digits, "
                                     "'.', '_' or '-', at most 64"))
    if role not in ROLES:
        problems.append(InputProblem("--role", None, None,
                                     f"{role!r}: expected {' or '.join(ROLES)}"))
    if len(password or "") < MIN_PASSWORD:
        problems.append(InputProblem("password", None, None,
                                     f"at least {MIN_PASSWORD} characters"))
    if problems:
        raise InputError(problems)
    digest = _HASHER.hash(password)
    with ledger.session() as s:
        row = s.get(UserRow, name)
        if row is not None and not replace:
            raise InputError(InputProblem("NAME", None, None, f"user {name!r} exists"))
        if row is None:
            s.add(UserRow(name=name, role=role, password_hash=digest, active=True,
                          created_at=_now()))
        else:
            row.role, row.password_hash, row.active = role, digest, True
    audit(ledger, "cli", "user_add", detail=f"{name} ({role})")
    return User(name, role)


def get_user(ledger: Ledger, name: str) -> User | None:
    """The active account ``name``, or ``None``."""
    with ledger.session() as s:
        row = s.get(UserRow, name)
        return None if row is None or not row.active else User(row.name, row.role)


def verify_user(ledger: Ledger, name: str, password: str) -> User | None:
    """The account when ``password`` is its password, else ``None`` (constant work either way)."""
    with ledger.session() as s:
        row = s.get(UserRow, name) if NAME_RE.match(name or "") else None
        digest = row.password_hash if row is not None and row.active else _DUMMY
        try:
            _HASHER.verify(digest, password or "")
        except (VerificationError, InvalidHashError):
            return None
        if row is None or not row.active:
            return None
        if _HASHER.check_needs_rehash(digest):
            row.password_hash = _HASHER.hash(password)
        return User(row.name, row.role)


def audit(ledger: Ledger, actor: str, action: str, *, day: dt.date | None = None,
          ref: str | None = None, detail: str = "") -> None:
    """Append one line to the audit (``detail``: no names, phones or addresses)."""
    with ledger.session() as s:
        s.add(AuditRow(at=_now(), actor=actor[:64], action=action[:32], day=day,
                       errand_ref=None if ref is None else ref[:64], detail=detail[:400]))


def audit_rows(ledger: Ledger, *, limit: int = 200) -> list[dict]:
    """The newest audit lines."""
    with ledger.session() as s:
        rows = s.scalars(select(AuditRow).order_by(AuditRow.pk.desc()).limit(limit))
        return [{"at": r.at.isoformat(sep=" "), "actor": r.actor, "action": r.action,
                 "day": None if r.day is None else r.day.isoformat(), "ref": r.errand_ref,
                 "detail": r.detail} for r in rows]
