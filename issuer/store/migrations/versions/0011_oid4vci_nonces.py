"""OID4VCI proof nonces that have been spent (issue 20).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

A wallet's proof of possession carries a ``c_nonce`` from the nonce endpoint;
the nonce itself is stateless (HMAC and time), and this table remembers, by
SHA-256, the ones a proof has used until they expire, so none is accepted twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "oid4vci_nonces",
        sa.Column("nonce_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("nonce_hash", name="pk_oid4vci_nonces"),
    )
    op.create_index("ix_oid4vci_nonces_expires_at", "oid4vci_nonces", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_oid4vci_nonces_expires_at", table_name="oid4vci_nonces")
    op.drop_table("oid4vci_nonces")
