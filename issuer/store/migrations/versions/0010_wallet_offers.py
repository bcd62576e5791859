"""Wallet claim offers and wallet copies (issue 20).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

``wallet_offers``: one row per offer to claim an award into a wallet (only
hashes of its secret and transaction code). ``wallet_copies``: the credentials
issued into wallets, each linked to its award and holding its own status
entries.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# As in 0001: SQLite only auto-increments INTEGER PRIMARY KEY; datetimes are stored as UTC.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "wallet_offers",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("issuer_id", BIG_ID, nullable=False),
        sa.Column("credential_id", sa.String(200), nullable=False),
        sa.Column("protocol", sa.String(10), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("tx_code_hash", sa.String(64), nullable=True),
        sa.Column("tx_code_failures", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=True),
        sa.Column("copy_id", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_wallet_offers"),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"], name="fk_wallet_offers_issuer_id_issuers"),
        sa.ForeignKeyConstraint(["credential_id"], ["credentials.id"],
                                name="fk_wallet_offers_credential_id_credentials"),
        sa.UniqueConstraint("secret_hash", name="uq_wallet_offers_secret_hash"),
    )
    op.create_index("ix_wallet_offers_issuer_id", "wallet_offers", ["issuer_id"])
    op.create_index("ix_wallet_offers_credential_id", "wallet_offers", ["credential_id"])
    op.create_table(
        "wallet_copies",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("issuer_id", BIG_ID, nullable=False),
        sa.Column("award_id", sa.String(200), nullable=False),
        sa.Column("holder", sa.String(1000), nullable=False),
        sa.Column("format", sa.String(20), nullable=False),
        sa.Column("protocol", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_list_id", BIG_ID, nullable=True),
        sa.Column("status_index", sa.Integer(), nullable=True),
        sa.Column("suspension_list_id", BIG_ID, nullable=True),
        sa.Column("suspension_index", sa.Integer(), nullable=True),
        sa.Column("credential", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_wallet_copies"),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"], name="fk_wallet_copies_issuer_id_issuers"),
        sa.ForeignKeyConstraint(["award_id"], ["credentials.id"], name="fk_wallet_copies_award_id_credentials"),
        sa.ForeignKeyConstraint(["status_list_id"], ["status_lists.id"],
                                name="fk_wallet_copies_status_list_id_status_lists"),
        sa.ForeignKeyConstraint(["suspension_list_id"], ["status_lists.id"],
                                name="fk_wallet_copies_suspension_list_id_status_lists"),
        sa.UniqueConstraint("award_id", "holder", "format", name="uq_wallet_copies_award_id_holder_format"),
    )
    op.create_index("ix_wallet_copies_issuer_id", "wallet_copies", ["issuer_id"])


def downgrade() -> None:
    op.drop_index("ix_wallet_copies_issuer_id", table_name="wallet_copies")
    op.drop_table("wallet_copies")
    op.drop_index("ix_wallet_offers_credential_id", table_name="wallet_offers")
    op.drop_index("ix_wallet_offers_issuer_id", table_name="wallet_offers")
    op.drop_table("wallet_offers")
