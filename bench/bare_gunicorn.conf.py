"""gunicorn settings for `bench.bare_app`: the project's own `gunicorn.conf.py`, minus its hooks.

Reading the project's file (rather than copying its values) keeps the worker class, threads,
timeout and every other setting identical between the bare endpoint and the app, whatever
WEB_CONCURRENCY / WEB_THREADS say. The hooks start the bot's background runtime, which the
bare app does not have, so they are left out.
"""

import runpy
from pathlib import Path
from types import ModuleType

_project = runpy.run_path(str(Path(__file__).resolve().parents[1] / "gunicorn.conf.py"))
for _name, _value in _project.items():
    if not _name.startswith("_") and not callable(_value) and not isinstance(_value, ModuleType):
        globals()[_name] = _value
