"""Imports every module that defines tables, so Alembic and tests see them all.

Each capability keeps its tables in its own module (on ``services.db.Base``)
and adds its import here.
"""

from services import zalo_store  # noqa: F401  (Zalo channel tables)
