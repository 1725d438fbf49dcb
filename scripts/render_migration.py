"""Write an area's Alembic revision from the current models, for the tables it names.

Each area of the hub owns one revision file in ``hub/store/migrations/versions`` (0001 foundation,
0002 audit, ...). This regenerates that file's ``upgrade``/``downgrade`` for exactly its tables, so
areas never step on each other. Usage::

    python scripts/render_migration.py 0001 members jurisdictions signing_keys ...
"""

from __future__ import annotations

import sys
from pathlib import Path

from alembic.autogenerate import produce_migrations, render_python_code
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from hub.store.models import Base

VERSIONS = Path(__file__).resolve().parent.parent / "hub" / "store" / "migrations" / "versions"


def render(tables: list[str]) -> tuple[str, str]:
    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_object": lambda obj, name, type_, reflected, compare_to: (
                    getattr(obj, "table", obj).name in tables if type_ != "table" else name in tables
                ),
                "compare_type": True,
            },
        )
        script = produce_migrations(context, Base.metadata)
    return (
        render_python_code(script.upgrade_ops, render_as_batch=False),
        render_python_code(script.downgrade_ops, render_as_batch=False),
    )


def main(revision: str, tables: list[str]) -> None:
    (path,) = VERSIONS.glob(f"{revision}_*.py")
    head = path.read_text().split("\n\ndef upgrade()")[0]
    if "import sqlalchemy as sa" not in head:
        head = head.replace(
            "from __future__ import annotations\n",
            "from __future__ import annotations\n\nimport sqlalchemy as sa\nfrom alembic import op\n\n"
            "import hub.store._base\n",
        )
    upgrade, downgrade = render(tables)
    path.write_text(f"{head}\n\ndef upgrade() -> None:\n{upgrade}\n\ndef downgrade() -> None:\n{downgrade}")
    print(f"wrote {path.relative_to(VERSIONS.parent.parent.parent.parent)}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
