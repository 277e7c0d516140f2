"""Imports every module that defines tables, so Alembic and tests see them all.

Each capability keeps its tables in its own module (on ``services.db.Base``)
and adds its import here.
"""

# KNOWLEDGE: units, procedures, facts, forms, news, scam alerts
from services import knowledge_models  # noqa: F401

# SERVICES: appointments, applications, tips, handoff, outbound, officer API audit
from services import (  # noqa: E402,F401
    applications,
    audit,
    booking,
    handoff,
    outbound,
    tips,
)
