"""Imports every module that defines tables, so Alembic and tests see them all.

Each capability keeps its tables in its own module (on ``services.db.Base``)
and adds its import here.
"""

from services import knowledge_models  # noqa: F401
