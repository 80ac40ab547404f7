"""(being built)"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("exports", __name__, template_folder="templates")
