"""One award per person (issue 16): the award key replaces the award date in the unique key.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

The key was (issuer, achievement, lookup key, issued_on), so a roster whose
date was corrected, or one without a date resumed after midnight, issued
everyone again. It is now (issuer, achievement, lookup key, award_key):
``once`` for an ordinary achievement, ``renews:<previous id>`` for a renewed
certification's cycle, ``date:…``/``session:…`` for a repeatable one. A
superseded credential (a correction) has a NULL key and names its successor
in ``superseded_by``.

Existing rows: a renewal (its ``renewed`` event) gets ``renews:<previous>``;
otherwise each person's first credential of an achievement gets ``once`` and
any later duplicate keeps a NULL key, so nothing is revoked or re-dated here
(staff decide; both stay in the registry and the event log).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_OLD = "uq_credentials_issuer_id_achievement_lookup_key_issued_on"
_NEW = "uq_credentials_issuer_id_achievement_lookup_key_award_key"


def upgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.add_column(sa.Column("award_key", sa.String(300), nullable=True))
        batch.add_column(sa.Column("superseded_by", sa.String(200), nullable=True))
    _fill_award_keys(op.get_bind())
    with op.batch_alter_table("credentials") as batch:
        batch.drop_constraint(_OLD, type_="unique")
        batch.create_unique_constraint(_NEW, ["issuer_id", "achievement", "lookup_key", "award_key"])


def _fill_award_keys(bind: sa.engine.Connection) -> None:
    credentials = sa.table("credentials", sa.column("id", sa.String), sa.column("issuer_id", sa.Integer),
                           sa.column("achievement", sa.String), sa.column("lookup_key", sa.String),
                           sa.column("issued_on", sa.Date), sa.column("created_at", sa.String),
                           sa.column("award_key", sa.String))
    events = sa.table("events", sa.column("credential_id", sa.String), sa.column("kind", sa.String),
                      sa.column("details", sa.JSON))
    previous = {row.credential_id: (row.details or {}).get("previous")
                for row in bind.execute(sa.select(events.c.credential_id, events.c.details)
                                        .where(events.c.kind == "renewed"))}
    taken: set[tuple] = set()
    updates = []
    query = (sa.select(credentials.c.id, credentials.c.issuer_id, credentials.c.achievement,
                       credentials.c.lookup_key)
             .where(credentials.c.achievement.is_not(None))
             .order_by(credentials.c.issued_on, credentials.c.created_at, credentials.c.id))
    for row in bind.execute(query):
        key = f"renews:{previous[row.id]}" if previous.get(row.id) else "once"
        if (row.issuer_id, row.achievement, row.lookup_key, key) in taken:
            continue  # a duplicate of an earlier award: keeps a NULL key
        taken.add((row.issuer_id, row.achievement, row.lookup_key, key))
        updates.append({"credential_id": row.id, "key": key})
    if updates:
        bind.execute(credentials.update().where(credentials.c.id == sa.bindparam("credential_id"))
                     .values(award_key=sa.bindparam("key")), updates)


def downgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.drop_constraint(_NEW, type_="unique")
        batch.create_unique_constraint(_OLD, ["issuer_id", "achievement", "lookup_key", "issued_on"])
        batch.drop_column("superseded_by")
        batch.drop_column("award_key")
