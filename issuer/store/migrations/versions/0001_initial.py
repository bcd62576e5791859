"""The initial registry schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Written out in full (not imported from issuer.models) so this revision keeps
describing the schema as it was when later revisions change the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# SQLite only auto-increments INTEGER PRIMARY KEY.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Timezone-aware datetimes, stored as UTC (issuer.store.models.UTCDateTime at runtime).
TIMESTAMP = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", BIG_ID, autoincrement=True, nullable=False)


def _issuer_id() -> sa.Column:
    return sa.Column("issuer_id", BIG_ID, nullable=False)


def _issuer_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"], name=f"fk_{table}_issuer_id_issuers")


def upgrade() -> None:
    op.create_table(
        "issuers",
        _id(),
        sa.Column("did", sa.String(500), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_issuers"),
        sa.UniqueConstraint("did", name="uq_issuers_did"),
    )
    op.create_table(
        "achievements",
        _id(),
        _issuer_id(),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        _issuer_fk("achievements"),
        sa.PrimaryKeyConstraint("id", name="pk_achievements"),
        sa.UniqueConstraint("issuer_id", "slug", name="uq_achievements_issuer_id_slug"),
    )
    op.create_index("ix_achievements_issuer_id", "achievements", ["issuer_id"])
    op.create_table(
        "keys",
        _id(),
        _issuer_id(),
        sa.Column("key_id", sa.String(1000), nullable=False),
        sa.Column("public_multikey", sa.String(200), nullable=False),
        sa.Column("file", sa.String(1000), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("retired_at", TIMESTAMP, nullable=True),
        _issuer_fk("keys"),
        sa.PrimaryKeyConstraint("id", name="pk_keys"),
        sa.UniqueConstraint("issuer_id", "key_id", name="uq_keys_issuer_id_key_id"),
    )
    op.create_index("ix_keys_issuer_id", "keys", ["issuer_id"])
    op.create_table(
        "status_lists",
        _id(),
        _issuer_id(),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("bits", sa.LargeBinary(), nullable=False),
        sa.Column("is_full", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        _issuer_fk("status_lists"),
        sa.PrimaryKeyConstraint("id", name="pk_status_lists"),
        sa.UniqueConstraint("issuer_id", "purpose", "seq", name="uq_status_lists_issuer_id_purpose_seq"),
        sa.UniqueConstraint("url", name="uq_status_lists_url"),
    )
    op.create_index("ix_status_lists_issuer_id", "status_lists", ["issuer_id"])
    op.create_table(
        "credentials",
        sa.Column("id", sa.String(200), nullable=False),
        _issuer_id(),
        sa.Column("achievement", sa.String(200), nullable=False),
        sa.Column("recipient_hash", sa.String(200), nullable=False),
        sa.Column("lookup_key", sa.String(200), nullable=False),
        sa.Column("recipient_name", sa.String(500), nullable=True),
        sa.Column("recipient_did", sa.String(1000), nullable=True),
        sa.Column("organization", sa.String(500), nullable=True),
        sa.Column("credits", sa.Numeric(12, 3, asdecimal=False), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("valid_from", TIMESTAMP, nullable=False),
        sa.Column("valid_until", TIMESTAMP, nullable=True),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_list_id", BIG_ID, nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("suspension_list_id", BIG_ID, nullable=True),
        sa.Column("suspension_index", sa.Integer(), nullable=True),
        sa.Column("credential", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        _issuer_fk("credentials"),
        sa.ForeignKeyConstraint(
            ["issuer_id", "achievement"],
            ["achievements.issuer_id", "achievements.slug"],
            name="fk_credentials_achievement_achievements",
        ),
        sa.ForeignKeyConstraint(
            ["status_list_id"], ["status_lists.id"], name="fk_credentials_status_list_id_status_lists"
        ),
        sa.ForeignKeyConstraint(
            ["suspension_list_id"], ["status_lists.id"], name="fk_credentials_suspension_list_id_status_lists"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_credentials"),
        # The roster idempotency key.
        sa.UniqueConstraint(
            "issuer_id", "achievement", "lookup_key", "issued_on",
            name="uq_credentials_issuer_id_achievement_lookup_key_issued_on",
        ),
    )
    op.create_index("ix_credentials_issuer_issued_on", "credentials", ["issuer_id", "issued_on"])
    op.create_index("ix_credentials_lookup_key", "credentials", ["lookup_key"])
    op.create_table(
        "status_allocations",
        sa.Column("status_list_id", BIG_ID, nullable=False),
        sa.Column("status_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("credential_id", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["status_list_id"], ["status_lists.id"], name="fk_status_allocations_status_list_id_status_lists"
        ),
        sa.PrimaryKeyConstraint("status_list_id", "status_index", name="pk_status_allocations"),
    )
    op.create_index("ix_status_allocations_credential_id", "status_allocations", ["credential_id"])
    op.create_table(
        "events",
        _id(),
        _issuer_id(),
        sa.Column("credential_id", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _issuer_fk("events"),
        sa.ForeignKeyConstraint(["credential_id"], ["credentials.id"], name="fk_events_credential_id_credentials"),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_credential_id", "events", ["credential_id"])
    op.create_index("ix_events_issuer_id", "events", ["issuer_id"])


def downgrade() -> None:
    for table in ("events", "status_allocations", "credentials", "status_lists", "keys", "achievements", "issuers"):
        op.drop_table(table)
