"""(being built)"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("audit", __name__, template_folder="templates")
