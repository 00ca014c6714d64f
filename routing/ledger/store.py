"""The ledger's library API: intake, status events, plans, and the queries the day needs.

One :class:`Ledger` per process (the CLI, the web app); every method is its own transaction.
What it returns are plain records (:class:`EventInfo`, :class:`routing.tables.Errand`, …), never
ORM rows bound to a closed session. Intake goes through :mod:`routing.tables`: a file and a
single errand typed by a dispatcher meet the same checks and the same messages.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gis.defaults import MODES
from gis.errors import InputError, InputProblem

from ..plan import DayPlan
from ..tables import (
    DAY,
    ERRAND_COLUMNS,
    KNOWN_SKILLS,
    Errand,
    Runner,
    errands_from_frame,
    fmt_hhmm,
    read_table,
    runners_from_frame,
)
from .db import LedgerError, engine_for, retrying, upgrade
from .models import (
    EVENT_KINDS,
    AuditRow,
    ErrandRow,
    EventRow,
    PlanRow,
    PlanStopRow,
    RunnerRow,
)

__all__ = ["Ledger", "IntakeRules", "EventInfo", "ALLOWED_FROM", "NotAssignee"]

log = logging.getLogger(__name__)

#: Statuses an event may follow (``rated``: once, after ``delivered``).
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "assigned": frozenset({"created", "assigned", "failed"}),
    "picked_up": frozenset({"assigned"}),
    "delivered": frozenset({"assigned", "picked_up"}),
    "failed": frozenset({"created", "assigned", "picked_up"}),
    "rated": frozenset({"delivered"}),
}


class NotAssignee(LedgerError):
    """The errand is not (or no longer) assigned to the runner who reports it."""


@dataclass(frozen=True)
class IntakeRules:
    """What intake checks errands and runners against (the region's outlets, modes, extent)."""

    hall_ids: tuple[str, ...] = ()
    base_ids: tuple[str, ...] = ()
    modes: tuple[str, ...] = tuple(MODES)
    bbox: tuple[float, float, float, float] | None = None
    skills: frozenset[str] = field(default=KNOWN_SKILLS)

    @classmethod
    def from_region(cls, reg: object) -> IntakeRules:
        """The rules of a :class:`gis.region.Region` (as :mod:`routing.region_day` applies)."""
        from ..region_day import errand_bbox, region_outlets

        outlets, _ = region_outlets(reg)  # type: ignore[arg-type]
        ids = tuple(outlets["id"])
        return cls(ids, ids, tuple(reg.network.modes),  # type: ignore[attr-defined]
                   errand_bbox(reg))  # type: ignore[arg-type]


@dataclass(frozen=True)
class EventInfo:
    """One event as the ledger recorded it."""

    errand_ref: str
    seq: int
    kind: str
    at: dt.datetime
    runner_id: str | None = None
    reason: str | None = None
    rating: int | None = None
    comment: str | None = None
    actor: str | None = None


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _errand_to_row(e: Errand, day: dt.date, channel: str, at: dt.datetime) -> ErrandRow:
    p, d = e.pickup or (None, None), e.delivery or (None, None)
    return ErrandRow(
        day=day, ref=e.id, kind=e.kind, pickup_lon=p[0], pickup_lat=p[1], delivery_lon=d[0],
        delivery_lat=d[1], hall_id=e.hall_id, pickup_earliest_s=e.pickup_window[0],
        pickup_latest_s=e.pickup_window[1], delivery_earliest_s=e.delivery_window[0],
        delivery_latest_s=e.delivery_window[1], service_s=e.service_s, skill=e.skill,
        priority=e.priority, contact_name=e.contact_name, contact_phone=e.contact_phone,
        address=e.address, note=e.note, items=e.items, illustrative=e.illustrative,
        channel=channel, status="created", runner_id=None, n_events=0, created_at=at)


def _row_to_errand(r: ErrandRow) -> Errand:
    pick = None if r.pickup_lon is None or r.pickup_lat is None else (r.pickup_lon,
                                                                       r.pickup_lat)
    dele = None if r.delivery_lon is None or r.delivery_lat is None else (r.delivery_lon,
                                                                           r.delivery_lat)
    return Errand(r.ref, r.kind, pick, dele, r.hall_id,
                  (r.pickup_earliest_s, r.pickup_latest_s),
                  (r.delivery_earliest_s, r.delivery_latest_s), r.service_s, r.skill,
                  r.priority, r.contact_name, r.contact_phone, r.address, r.note, r.items,
                  r.illustrative)


def _row_to_runner(r: RunnerRow) -> Runner:
    lunch = None
    if r.break_start_s is not None and r.break_end_s is not None and r.break_s is not None:
        lunch = (r.break_start_s, r.break_end_s, r.break_s)
    skills = frozenset(s for s in r.skills.split(";") if s)
    return Runner(r.id, r.name, r.base_outlet_id, (r.shift_start_s, r.shift_end_s), r.mode,
                  skills, r.max_errands, lunch, r.illustrative)


def _hhmm(s: int | None) -> str:
    return "" if s is None or s >= DAY else fmt_hhmm(s)


def errand_frame(errands: list[Errand]) -> pd.DataFrame:
    """Errands back as the errands table (strings, the columns of :mod:`routing.tables`)."""
    rows = []
    for e in errands:
        p, d = e.pickup, e.delivery
        rows.append({
            "id": e.id, "kind": e.kind,
            "pickup_lon": "" if p is None else repr(p[0]),
            "pickup_lat": "" if p is None else repr(p[1]),
            "delivery_lon": "" if d is None else repr(d[0]),
            "delivery_lat": "" if d is None else repr(d[1]), "hall_id": e.hall_id,
            "pickup_earliest": _hhmm(e.pickup_window[0]) if e.pickup_window[0] else "",
            "pickup_latest": _hhmm(e.pickup_window[1]),
            "delivery_earliest": _hhmm(e.delivery_window[0]) if e.delivery_window[0] else "",
            "delivery_latest": _hhmm(e.delivery_window[1]),
            "service_minutes": f"{e.service_s / 60:g}", "skill": e.skill,
            "priority": str(e.priority), "contact_name": e.contact_name,
            "contact_phone": e.contact_phone, "address": e.address, "note": e.note,
            "items": e.items, "illustrative": "yes" if e.illustrative else "no",
        })
    return pd.DataFrame(rows, columns=[*ERRAND_COLUMNS, "illustrative"], dtype=object)


def runner_frame(runners: list[Runner]) -> pd.DataFrame:
    """Runners back as the runners table (strings)."""
    rows = []
    for r in runners:
        b = r.lunch
        rows.append({
            "id": r.id, "name": r.name, "base_outlet_id": r.base_outlet_id,
            "shift_start": fmt_hhmm(r.shift[0]), "shift_end": fmt_hhmm(r.shift[1]),
            "mode": r.mode, "skills": ";".join(sorted(r.skills)),
            "max_errands": "" if r.max_errands is None else str(r.max_errands),
            "break_start": "" if b is None else fmt_hhmm(b[0]),
            "break_end": "" if b is None else fmt_hhmm(b[1]),
            "break_minutes": "" if b is None else f"{b[2] / 60:g}",
            "illustrative": "yes" if r.illustrative else "no",
        })
    return pd.DataFrame(rows, dtype=object)


class Ledger:
    """The errands ledger on one database.

    Parameters
    ----------
    url
        ``sqlite:///path`` (default embedded) or ``postgresql+psycopg://…``; or an engine.
    migrate
        Bring the database to the newest migration first (an empty one is created).
    pool_size
        Connections kept open (:func:`routing.ledger.db.engine_for`); a server passes its
        worker threads.
    """

    def __init__(self, url: str | Engine, *, migrate: bool = True,
                 pool_size: int | None = None) -> None:
        self.engine = url if isinstance(url, Engine) else engine_for(url, pool_size=pool_size)
        if migrate:
            upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed at the end, rolled back on error."""
        with self._sessions() as s, s.begin():
            yield s

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    # ---- intake ---------------------------------------------------------------------------
    def add_runners(self, runners: list[Runner]) -> int:
        """Add or update runners on the roster; returns how many."""
        def tx() -> int:
            with self.session() as s:
                for r in runners:
                    b = r.lunch
                    s.merge(RunnerRow(
                        id=r.id, name=r.name, base_outlet_id=r.base_outlet_id,
                        shift_start_s=r.shift[0], shift_end_s=r.shift[1], mode=r.mode,
                        skills=";".join(sorted(r.skills)), max_errands=r.max_errands,
                        break_start_s=None if b is None else b[0],
                        break_end_s=None if b is None else b[1],
                        break_s=None if b is None else b[2], illustrative=r.illustrative,
                        active=True))
            return len(runners)
        n = retrying(tx)
        log.info("ledger: %d runner(s) on the roster updated", n)
        return n

    def add_errands(self, errands: list[Errand], day: dt.date, *, channel: str = "file",
                    actor: str | None = None, at: dt.datetime | None = None) -> list[int]:
        """Store validated errands of a day, each with its ``created`` event.

        Raises
        ------
        InputError
            An errand id the day already has (nothing is stored then).
        """
        at = at or _now()

        def tx() -> list[int]:
            with self.session() as s:
                refs = [e.id for e in errands]
                have = set(s.scalars(select(ErrandRow.ref).where(
                    ErrandRow.day == day, ErrandRow.ref.in_(refs))))
                if have:
                    raise InputError([InputProblem("errands", None, "id", f"errand {r!r} is "
                                                   f"already in the ledger for {day}")
                                      for r in refs if r in have])
                rows = [_errand_to_row(e, day, channel, at) for e in errands]
                s.add_all(rows)
                s.flush()
                for row in rows:
                    row.n_events = 1
                    s.add(EventRow(errand_pk=row.pk, seq=1, kind="created", at=at,
                                   actor=actor))
                return [row.pk for row in rows]
        pks = retrying(tx)
        log.info("ledger: %d errand(s) added for %s (%s)", len(pks), day, channel)
        return pks

    def import_errands(self, path: str | Path, day: dt.date, rules: IntakeRules, *,
                       actor: str | None = None) -> list[int]:
        """Read, validate (every problem at once, nothing stored then) and store a day's file."""
        errands = errands_from_frame(read_table(Path(path)), file=str(path),
                                     hall_ids=rules.hall_ids, bbox=rules.bbox,
                                     skills=rules.skills)
        return self.add_errands(errands, day, channel="file", actor=actor)

    def import_runners(self, path: str | Path, rules: IntakeRules) -> int:
        """Read, validate and store a runners file (upserted by runner id)."""
        runners = runners_from_frame(read_table(Path(path)), file=str(path),
                                     base_ids=rules.base_ids, modes=rules.modes,
                                     skills=rules.skills)
        return self.add_runners(runners)

    def add_errand(self, fields: Mapping[str, object], day: dt.date, rules: IntakeRules, *,
                   channel: str = "hotline", actor: str | None = None) -> int:
        """One errand typed by a dispatcher: the same checks as a file's row.

        Parameters
        ----------
        fields
            Column -> value, the errands table's columns (``HH:MM`` times, numbers as text
            or numbers).
        day, rules, channel, actor
            The errand's day, the intake rules, how it came in, who typed it.

        Returns
        -------
        int
            The errand's key in the ledger.

        Raises
        ------
        InputError
            The problems, each naming its column (``file`` is ``"errand"``, row 1).
        """
        frame = pd.DataFrame([{k: "" if v is None else str(v) for k, v in fields.items()}],
                             dtype=object)
        frame.attrs["first_row"] = 1
        (errand,) = errands_from_frame(frame, file="errand", hall_ids=rules.hall_ids,
                                       bbox=rules.bbox, skills=rules.skills)
        return self.add_errands([errand], day, channel=channel, actor=actor)[0]

    # ---- events ---------------------------------------------------------------------------
    def record(self, day: dt.date, ref: str, kind: str, *, runner_id: str | None = None,
               reason: str | None = None, rating: int | None = None,
               comment: str | None = None, at: dt.datetime | None = None,
               actor: str | None = None, plan_pk: int | None = None,
               expect_runner: str | None = None, audit: str | None = None) -> EventInfo:
        """Append an event to an errand and move its status, safely under concurrency.

        The errand's row is locked (``FOR UPDATE`` on PostgreSQL, the write lock of
        ``BEGIN IMMEDIATE`` on SQLite) while its next ``seq`` is taken, so no two updates
        read the same state; contended transactions are retried. The ownership check, the
        event and the audit line are one transaction (a runner's post is one round of locks).

        Parameters
        ----------
        expect_runner
            Refuse (:class:`NotAssignee`) unless the errand is assigned to this runner now.
        audit
            Also append an audit line with this action (``actor``, the day and the ref; no
            detail) in the same transaction.

        Raises
        ------
        LedgerError
            Unknown errand, unknown kind, a transition not allowed (e.g. ``delivered`` before
            ``assigned``), a second rating, a rating outside 1–5, ``failed`` without a reason;
            :class:`NotAssignee` (a subclass) when ``expect_runner`` does not hold the errand.
        """
        if kind not in EVENT_KINDS or kind == "created":
            raise LedgerError(f"unknown event {kind!r}: expected one of "
                              f"{', '.join(k for k in EVENT_KINDS if k != 'created')}")
        if kind == "rated" and (rating is None or not 1 <= int(rating) <= 5):
            raise LedgerError("a rating is a whole number from 1 to 5")
        if kind == "failed" and not (reason or "").strip():
            raise LedgerError("a failed errand needs a reason")
        if kind == "assigned" and not runner_id:
            raise LedgerError("an assignment names the runner")
        at = at or _now()

        def tx() -> EventInfo:
            with self.session() as s:
                row = s.scalars(select(ErrandRow).where(
                    ErrandRow.day == day, ErrandRow.ref == ref).with_for_update()).first()
                if row is None:
                    raise (NotAssignee if expect_runner else LedgerError)(
                        f"no errand {ref!r} on {day}")
                if expect_runner is not None and row.runner_id != expect_runner:
                    raise NotAssignee(f"errand {ref!r} is not assigned to this runner")
                if row.status not in ALLOWED_FROM[kind]:
                    raise LedgerError(f"errand {ref!r} is {row.status}: cannot record {kind}")
                if kind == "rated" and s.scalar(select(func.count()).where(
                        EventRow.errand_pk == row.pk, EventRow.kind == "rated")):
                    raise LedgerError(f"errand {ref!r} is already rated")
                row.n_events += 1
                who = runner_id if kind == "assigned" else (runner_id or row.runner_id)
                ev = EventRow(errand_pk=row.pk, seq=row.n_events, kind=kind, at=at,
                              runner_id=who, plan_pk=plan_pk, reason=reason,
                              rating=None if rating is None else int(rating), comment=comment,
                              actor=actor)
                s.add(ev)
                if kind != "rated":
                    row.status = kind
                if kind == "assigned":
                    row.runner_id = runner_id
                if audit is not None:
                    s.add(AuditRow(at=_now(), actor=(actor or "")[:64], action=audit[:32],
                                   day=day, errand_ref=ref[:64], detail=""))
                return EventInfo(ref, ev.seq, kind, at, who, reason, ev.rating, comment, actor)
        try:
            info = retrying(tx)
        except IntegrityError as exc:  # a (errand, seq) clash would mean a lost update
            raise LedgerError(f"errand {ref!r}: concurrent update refused") from exc
        log.info("ledger: errand event %s (seq %d)", kind, info.seq)
        return info

    # ---- queries --------------------------------------------------------------------------
    def errands(self, day: dt.date) -> list[Errand]:
        """The day's errands as routing records (in the order they were added)."""
        with self.session() as s:
            rows = s.scalars(select(ErrandRow).where(ErrandRow.day == day)
                             .order_by(ErrandRow.pk))
            return [_row_to_errand(r) for r in rows]

    def runners(self) -> list[Runner]:
        """The active runners as routing records."""
        with self.session() as s:
            rows = s.scalars(select(RunnerRow).where(RunnerRow.active).order_by(RunnerRow.id))
            return [_row_to_runner(r) for r in rows]

    def statuses(self, day: dt.date) -> dict[str, tuple[str, str | None]]:
        """Errand id -> (status, runner id) for the day."""
        with self.session() as s:
            rows = s.execute(select(ErrandRow.ref, ErrandRow.status, ErrandRow.runner_id)
                             .where(ErrandRow.day == day).order_by(ErrandRow.pk))
            return {ref: (st, rid) for ref, st, rid in rows}

    def events(self, day: dt.date, ref: str | None = None) -> list[EventInfo]:
        """The events of one errand, or of the whole day, in order."""
        with self.session() as s:
            q = (select(ErrandRow.ref, EventRow).join(EventRow.errand)
                 .where(ErrandRow.day == day).order_by(ErrandRow.pk, EventRow.seq))
            if ref is not None:
                q = q.where(ErrandRow.ref == ref)
            return [EventInfo(r, e.seq, e.kind, e.at, e.runner_id, e.reason, e.rating,
                              e.comment, e.actor) for r, e in s.execute(q)]

    def board(self, day: dt.date) -> dict[str, int]:
        """Errands of the day per status (every status named, zero included)."""
        from .models import STATUSES

        with self.session() as s:
            rows = s.execute(select(ErrandRow.status, func.count()).where(ErrandRow.day == day)
                             .group_by(ErrandRow.status))
            got = dict(rows.tuples().all())
        return {k: int(got.get(k, 0)) for k in STATUSES}

    # ---- plans ----------------------------------------------------------------------------
    def save_plan(self, plan: DayPlan, *, kind: str = "morning", at_s: int | None = None,
                  actor: str | None = None) -> int:
        """Store a plan and assign its errands (an ``assigned`` event where the runner changes).

        Errands already picked up, delivered or failed keep their status.
        """
        from ..io import public_plan

        now = _now()

        def tx() -> tuple[int, list[tuple[str, str]]]:
            with self.session() as s:
                pks = dict(s.execute(select(ErrandRow.ref, ErrandRow.pk)
                                     .where(ErrandRow.day == plan.date)).tuples().all())
                row = PlanRow(day=plan.date, kind=kind, at_s=at_s, created_at=now,
                              n_served=plan.n_served, n_dropped=len(plan.dropped),
                              check_ok=plan.check.ok,
                              public_json=json.dumps(public_plan(plan), ensure_ascii=False))
                s.add(row)
                s.flush()
                assign: list[tuple[str, str]] = []
                for r in plan.routes:
                    for st in r.stops:
                        if st.errand_id not in pks:
                            raise LedgerError(f"plan names errand {st.errand_id!r}, not in "
                                              f"the ledger for {plan.date}")
                        s.add(PlanStopRow(plan_pk=row.pk, runner_id=r.runner_id, seq=st.order,
                                          errand_pk=pks[st.errand_id], role=st.role,
                                          arrival_s=st.arrival_s))
                        if st.order == min(x.order for x in r.stops if
                                           x.errand_id == st.errand_id):
                            assign.append((st.errand_id, r.runner_id))
                return row.pk, assign
        plan_pk, assign = retrying(tx)
        current = self.statuses(plan.date)
        for ref, runner in assign:
            status, who = current[ref]
            if status in ("created", "failed") or (status == "assigned" and who != runner):
                if status == "failed":
                    continue  # a failed errand is re-planned only when the dispatcher says so
                self.record(plan.date, ref, "assigned", runner_id=runner, at=now,
                            plan_pk=plan_pk, actor=actor)
        log.info("ledger: plan %d stored for %s (%s)", plan_pk, plan.date, kind)
        return plan_pk

    def latest_plan(self, day: dt.date) -> dict | None:
        """The day's newest stored plan (its ``plan.json``), or ``None``."""
        with self.session() as s:
            row = s.scalars(select(PlanRow).where(PlanRow.day == day)
                            .order_by(PlanRow.pk.desc())).first()
            return None if row is None else json.loads(row.public_json)

    def plan_created_at(self, day: dt.date) -> dt.datetime | None:
        """When the day's newest plan was stored."""
        with self.session() as s:
            return s.scalar(select(func.max(PlanRow.created_at)).where(PlanRow.day == day))
