"""evaluator token usage on critiques, for daily budgets

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 01:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = ("input_tokens", "output_tokens", "cached_tokens")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column(
            "critiques",
            sa.Column(name, sa.Integer(), nullable=False, server_default="0"),
        )


def downgrade() -> None:
    with op.batch_alter_table("critiques") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
