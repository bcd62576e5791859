"""Open Badges 3.0 API: OAuth clients, grants, tokens, hosted credentials (issue 19).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

Reserved in the chain so that work on separate issues can land in any order;
the issue's work fills in upgrade() and downgrade().
"""

from __future__ import annotations

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
