"""Server-rendered pages (the console, the printable access report): Jinja2 with autoescape."""

from __future__ import annotations

from importlib.resources import files

from fastapi.templating import Jinja2Templates

templates = Jinja2Templates(directory=str(files("gateway") / "templates"))
