"""Wallet offers are pruned by their end (issue 20).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

Offers that ended more than a day ago are deleted a bounded batch at a time
whenever offers are made (``issuer.awarding.claims``); this index on
``expires_at`` keeps that look-up a range scan however many offers are open.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_wallet_offers_expires_at", "wallet_offers", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_wallet_offers_expires_at", table_name="wallet_offers")
