"""Association and divisions (issue 18).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

Reserved in the chain so that work on separate issues can land in any order;
the issue's work fills in upgrade() and downgrade().
"""

from __future__ import annotations

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
