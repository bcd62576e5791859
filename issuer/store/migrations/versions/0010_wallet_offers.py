"""Wallet claim offers and wallet copies (issue 20).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

Reserved in the chain so that work on separate issues can land in any order;
the issue's work fills in upgrade() and downgrade().
"""

from __future__ import annotations

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
