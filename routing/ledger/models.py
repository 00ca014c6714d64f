"""The ledger's tables as typed SQLAlchemy 2 ORM classes.

Runners are a roster (one row per runner id). Errands belong to a day and carry the same
fields as the errands table (:mod:`routing.tables`), times in seconds after midnight; their
``status`` and ``n_events`` follow their events. Plans keep the public ``plan.json`` (no
personal data) and one row per stop. Events are append-only: the database refuses an
``UPDATE`` or ``DELETE`` on them (triggers, created by the migration).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = ["Base", "RunnerRow", "ErrandRow", "PlanRow", "PlanStopRow", "EventRow",
           "UserRow", "AuditRow", "EVENT_KINDS", "STATUSES", "ROLES"]

#: What can happen to an errand (``rated``: the citizen's 好差评, 1–5 with a comment).
EVENT_KINDS = ("created", "assigned", "picked_up", "delivered", "failed", "rated")
#: Roles of the web workbench's accounts (``bianmin users add``).
ROLES = ("admin", "dispatcher")
#: An errand's status: the kind of its last event other than ``rated``.
STATUSES = ("created", "assigned", "picked_up", "delivered", "failed")


class Base(DeclarativeBase):
    """Declarative base of the ledger's tables."""


class RunnerRow(Base):
    """A runner on the roster (the runners table's columns)."""

    __tablename__ = "runners"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    base_outlet_id: Mapped[str] = mapped_column(String(64))
    shift_start_s: Mapped[int] = mapped_column(Integer)
    shift_end_s: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16))
    skills: Mapped[str] = mapped_column(String(400), default="")  # ";"-separated
    max_errands: Mapped[int | None] = mapped_column(Integer)
    break_start_s: Mapped[int | None] = mapped_column(Integer)
    break_end_s: Mapped[int | None] = mapped_column(Integer)
    break_s: Mapped[int | None] = mapped_column(Integer)
    illustrative: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)


class ErrandRow(Base):
    """An errand of a day; ``ref`` is the errand id of the day's table."""

    __tablename__ = "errands"
    __table_args__ = (UniqueConstraint("day", "ref", name="uq_errands_day_ref"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    ref: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    pickup_lon: Mapped[float | None] = mapped_column(Float)
    pickup_lat: Mapped[float | None] = mapped_column(Float)
    delivery_lon: Mapped[float | None] = mapped_column(Float)
    delivery_lat: Mapped[float | None] = mapped_column(Float)
    hall_id: Mapped[str] = mapped_column(String(64), default="")
    pickup_earliest_s: Mapped[int] = mapped_column(Integer)
    pickup_latest_s: Mapped[int] = mapped_column(Integer)
    delivery_earliest_s: Mapped[int] = mapped_column(Integer)
    delivery_latest_s: Mapped[int] = mapped_column(Integer)
    service_s: Mapped[int] = mapped_column(Integer)
    skill: Mapped[str] = mapped_column(String(64), default="")
    priority: Mapped[int] = mapped_column(Integer)
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_phone: Mapped[str] = mapped_column(String(64), default="")
    address: Mapped[str] = mapped_column(String(400), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    items: Mapped[str] = mapped_column(String(400), default="")
    illustrative: Mapped[bool] = mapped_column(default=False)
    channel: Mapped[str] = mapped_column(String(32), default="file")  # file|hotline|window|online
    status: Mapped[str] = mapped_column(String(16), default="created")
    runner_id: Mapped[str | None] = mapped_column(String(64))
    n_events: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    events: Mapped[list[EventRow]] = relationship(back_populates="errand",
                                                  order_by="EventRow.seq")


class PlanRow(Base):
    """A stored plan: the morning's or a re-plan; ``public_json`` is ``plan.json``."""

    __tablename__ = "plans"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # morning | replan
    at_s: Mapped[int | None] = mapped_column(Integer)  # re-plan time
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    n_served: Mapped[int] = mapped_column(Integer)
    n_dropped: Mapped[int] = mapped_column(Integer)
    check_ok: Mapped[bool] = mapped_column()
    public_json: Mapped[str] = mapped_column(Text)

    stops: Mapped[list[PlanStopRow]] = relationship(back_populates="plan",
                                                    order_by="PlanStopRow.pk")


class PlanStopRow(Base):
    """One stop of a stored plan."""

    __tablename__ = "plan_stops"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_pk: Mapped[int] = mapped_column(ForeignKey("plans.pk", ondelete="CASCADE"), index=True)
    runner_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    errand_pk: Mapped[int] = mapped_column(ForeignKey("errands.pk"))
    role: Mapped[str] = mapped_column(String(16))
    arrival_s: Mapped[int] = mapped_column(Integer)

    plan: Mapped[PlanRow] = relationship(back_populates="stops")


class EventRow(Base):
    """Something that happened to an errand (append-only; ``seq`` numbers them per errand)."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("errand_pk", "seq", name="uq_events_errand_seq"),
        CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="ck_events_rating"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    errand_pk: Mapped[int] = mapped_column(ForeignKey("errands.pk"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(DateTime)  # local wall-clock time
    runner_id: Mapped[str | None] = mapped_column(String(64))
    plan_pk: Mapped[int | None] = mapped_column(ForeignKey("plans.pk"))
    reason: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(64))  # who recorded it (audit)

    errand: Mapped[ErrandRow] = relationship(back_populates="events")


class UserRow(Base):
    """An account of the web workbench (a dispatcher or an admin); the password as argon2."""

    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # admin | dispatcher
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class AuditRow(Base):
    """Who changed what in the ledger through the workbench (no personal data: refs only)."""

    __tablename__ = "audit"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # a user name, or ``runner:<id>``
    action: Mapped[str] = mapped_column(String(32))  # login, intake, import, plan, event, …
    day: Mapped[dt.date | None] = mapped_column(Date)
    errand_ref: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(String(400), default="")
