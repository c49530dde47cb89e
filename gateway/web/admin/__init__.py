"""The admin console under `/admin`: one blueprint, one module per area."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Importing the modules registers their routes on `bp`.
from gateway.web.admin import (  # noqa: E402
    channels,
    dashboard,
    entry,
    repair,
    reports,
    sla,
)

__all__ = ["bp", "channels", "dashboard", "entry", "repair", "reports", "sla"]
