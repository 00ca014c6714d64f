"""The ledger's first tables: runners, errands, plans, plan stops, append-only events.

Revision ID: 0001
Revises:
Create Date: 2026-11-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_PG_FUNC = """
CREATE FUNCTION events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only';
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    """Create the tables and the triggers that keep events append-only."""
    op.create_table(
        "runners",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("base_outlet_id", sa.String(64), nullable=False),
        sa.Column("shift_start_s", sa.Integer, nullable=False),
        sa.Column("shift_end_s", sa.Integer, nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("skills", sa.String(400), nullable=False),
        sa.Column("max_errands", sa.Integer),
        sa.Column("break_start_s", sa.Integer),
        sa.Column("break_end_s", sa.Integer),
        sa.Column("break_s", sa.Integer),
        sa.Column("illustrative", sa.Boolean, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "errands",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("day", sa.Date, nullable=False, index=True),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        *(sa.Column(c, sa.Float) for c in ("pickup_lon", "pickup_lat", "delivery_lon",
                                           "delivery_lat")),
        sa.Column("hall_id", sa.String(64), nullable=False),
        *(sa.Column(c, sa.Integer, nullable=False) for c in (
            "pickup_earliest_s", "pickup_latest_s", "delivery_earliest_s", "delivery_latest_s",
            "service_s")),
        sa.Column("skill", sa.String(64), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("contact_name", sa.String(200), nullable=False),
        sa.Column("contact_phone", sa.String(64), nullable=False),
        sa.Column("address", sa.String(400), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("items", sa.String(400), nullable=False),
        sa.Column("illustrative", sa.Boolean, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("runner_id", sa.String(64)),
        sa.Column("n_events", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("day", "ref", name="uq_errands_day_ref"),
    )
    op.create_table(
        "plans",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("day", sa.Date, nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at_s", sa.Integer),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("n_served", sa.Integer, nullable=False),
        sa.Column("n_dropped", sa.Integer, nullable=False),
        sa.Column("check_ok", sa.Boolean, nullable=False),
        sa.Column("public_json", sa.Text, nullable=False),
    )
    op.create_table(
        "plan_stops",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_pk", sa.Integer, sa.ForeignKey("plans.pk", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("runner_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("errand_pk", sa.Integer, sa.ForeignKey("errands.pk"), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("arrival_s", sa.Integer, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("errand_pk", sa.Integer, sa.ForeignKey("errands.pk"), nullable=False,
                  index=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("runner_id", sa.String(64)),
        sa.Column("plan_pk", sa.Integer, sa.ForeignKey("plans.pk")),
        sa.Column("reason", sa.Text),
        sa.Column("rating", sa.Integer),
        sa.Column("comment", sa.Text),
        sa.Column("actor", sa.String(64)),
        sa.UniqueConstraint("errand_pk", "seq", name="uq_events_errand_seq"),
        sa.CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)",
                           name="ck_events_rating"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNC)
        op.execute("CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
                   "FOR EACH ROW EXECUTE FUNCTION events_append_only()")
    else:
        for what in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER events_no_{what.lower()} BEFORE {what} ON events "
                       "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END")


def downgrade() -> None:
    """Drop everything."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS events_append_only ON events")
        op.execute("DROP FUNCTION IF EXISTS events_append_only()")
    for table in ("events", "plan_stops", "plans", "errands", "runners"):
        op.drop_table(table)
