"""Renewal notices sent (issue 7).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

One row per reminder handed out (a file written or a message sent), unique
per certification, cycle and channel, so no learner hears twice about the
same cycle.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# As in 0001: SQLite only auto-increments INTEGER PRIMARY KEY; datetimes are stored as UTC.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "renewal_notices",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("issuer_id", BIG_ID, nullable=False),
        sa.Column("credential_id", sa.String(200), nullable=False),
        sa.Column("cycle_end", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("message_id", sa.String(300), nullable=False),
        sa.Column("sent_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_renewal_notices"),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"], name="fk_renewal_notices_issuer_id_issuers"),
        sa.ForeignKeyConstraint(["credential_id"], ["credentials.id"],
                                name="fk_renewal_notices_credential_id_credentials"),
        sa.UniqueConstraint("issuer_id", "credential_id", "cycle_end", "channel",
                            name="uq_renewal_notices_issuer_id_credential_id_cycle_end_channel"),
    )


def downgrade() -> None:
    op.drop_table("renewal_notices")
