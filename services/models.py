"""Imports every module that defines tables, so Alembic and tests see them all.

Each capability keeps its tables in its own module (on ``services.db.Base``)
and adds its import here:
knowledge_models (units, procedures, facts, forms, news, scam alerts);
applications, audit, booking, handoff, outbound, tips, tip_attachments
(citizen services);
officers (console accounts);
zalo_store (the Zalo inbox, tokens and sent messages).
"""

from services import (  # noqa: F401
    applications,
    audit,
    booking,
    handoff,
    knowledge_models,
    officers,
    outbound,
    tip_attachments,
    tips,
    zalo_store,
)
