"""Jinja templates (web pages, certificate, badge art, transcript, notices), shipped as package data."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

FOLDER = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def template_environment() -> jinja2.Environment:
    """The templates outside Flask (transcripts, notices): autoescaped, strict about undefined names.

    Found through the package, so it works from an installed wheel too.
    """
    return jinja2.Environment(loader=jinja2.FileSystemLoader(FOLDER), autoescape=True,
                              undefined=jinja2.StrictUndefined)


__all__ = ["FOLDER", "template_environment"]
