"""Files an issuing division hands out: achievement art, and per credential the baked
badge (PNG, and SVG when the art is SVG), the credential itself, and a QR code.

Layout under the instance's ``out/`` folder::

    out/<achievement>/<recipient>-<id8>.png      baked PNG
    out/<achievement>/<recipient>-<id8>.svg      baked SVG (SVG art only)
    out/<achievement>/<recipient>-<id8>.json     the signed credential (.jwt for VC-JWT)
    out/<achievement>/<recipient>-<id8>-qr.png   QR code of the public badge page
    out/status/<purpose>-<n>.json                signed status list credentials

Every file is written atomically (temp file + rename): an interrupted run
never leaves a half-written badge.

A file the user names on the command line (``badgesmith bake -o``…) goes
through ``issuer.instance.files.write_output_file`` instead.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, Sequence

from errors import Code, ConfigError, InputError
from issuer.badge.achievement import Achievement
from issuer.badge.art import render_badge_png, render_badge_svg
from issuer.badge.bake import png_baker, svg_baker
from issuer.badge.qr import qr_png
from issuer.instance.files import write_file_atomic
from issuer.instance.settings import Settings
from issuer.store.models import CredentialRecord


@dataclass(frozen=True, slots=True)
class CredentialFiles:
    """Paths of the files written for one credential."""

    credential: Path
    png: Path
    qr: Path
    svg: Path | None = None

    def as_list(self) -> list[Path]:
        return [p for p in (self.png, self.svg, self.credential, self.qr) if p is not None]


def _credits_label(value: Any) -> str | None:
    if value is None:
        return None
    return f"{value:g} CEU" + ("" if float(value) == 1 else "s")


def store_achievement_files(settings: Settings, achievement: Achievement) -> dict[str, str]:
    """Copy the achievement's image into the instance, or render badge art; return {kind: relative path}."""
    folder = settings.achievements_dir
    folder.mkdir(parents=True, exist_ok=True)
    images: dict[str, str] = {}
    try:
        if achievement.image is not None:
            data = achievement.image.read_bytes()
            kind = "svg" if achievement.image_media_type == "image/svg+xml" else "png"
            write_file_atomic(folder / f"{achievement.id}.{kind}", data)
            images[kind] = f"{achievement.id}.{kind}"
            if kind == "svg":  # a PNG is always baked too: most platforms only show PNG
                write_file_atomic(folder / f"{achievement.id}.png", _render_png(settings, achievement))
                images["png"] = f"{achievement.id}.png"
        else:
            args = (achievement.name, achievement.achievement_type, _credits_label(achievement.credits_available),
                    settings.name)
            write_file_atomic(folder / f"{achievement.id}.svg", render_badge_svg(*args))
            write_file_atomic(folder / f"{achievement.id}.png", render_badge_png(*args))
            images.update(svg=f"{achievement.id}.svg", png=f"{achievement.id}.png")
    except OSError as exc:
        raise ConfigError(Code.CONFIG_INVALID, f"Cannot write the achievement's image into {folder} "
                          f"({exc.strerror}).") from exc
    return images


def _render_png(settings: Settings, achievement: Achievement) -> bytes:
    return render_badge_png(achievement.name, achievement.achievement_type,
                            _credits_label(achievement.credits_available), settings.name)


def file_stem(record: CredentialRecord) -> str:
    """``<recipient>-<first 8 of the uuid>``: readable, and unique per credential."""
    base = record.recipient_name or "recipient"
    ascii_name = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40] or "recipient"
    return f"{slug}-{record.id.removeprefix('urn:uuid:')[:8]}"


def achievement_image(settings: Settings, definition: dict[str, Any], kind: str) -> bytes | None:
    """The stored PNG or SVG art of an achievement, if there is one."""
    name = (definition.get("images") or {}).get(kind)
    if not name:
        return None
    try:
        return (settings.achievements_dir / name).read_bytes()
    except OSError:
        return None


def write_credential_files(settings: Settings, definition: dict[str, Any], record: CredentialRecord,
                           page_url: str, *, durable: bool = True) -> CredentialFiles:
    """Write the baked badge(s), the credential and its QR code; return their paths."""
    return write_credential_files_many(settings, definition, [(record, page_url)], durable=durable)[0]


def write_credential_files_many(settings: Settings, definition: dict[str, Any],
                                credentials: Sequence[tuple[CredentialRecord, str]], *,
                                durable: bool = True) -> list[CredentialFiles]:
    """``write_credential_files`` for many credentials of one achievement (a roster batch, in a worker
    process): its art is read, and its chunks or markup parsed, once."""
    if not credentials:
        return []
    png_art = achievement_image(settings, definition, "png")
    if png_art is None:
        raise ConfigError(Code.CONFIG_INVALID, f"The achievement {credentials[0][0].achievement} has no PNG image; "
                          "add it again with `badgesmith achievement add`.")
    svg_art = achievement_image(settings, definition, "svg")
    bake_png, bake_svg = png_baker(png_art), svg_baker(svg_art) if svg_art is not None else None
    folders: set[Path] = set()
    written = []
    for record, page_url in credentials:
        folder = settings.out_dir / record.achievement
        if folder not in folders:
            folder.mkdir(parents=True, exist_ok=True)
            folders.add(folder)
        stem = file_stem(record)
        is_jwt = record.format == "jwt"
        text = record.credential
        files = CredentialFiles(credential=folder / f"{stem}.{'jwt' if is_jwt else 'json'}",
                                png=folder / f"{stem}.png", qr=folder / f"{stem}-qr.png",
                                svg=folder / f"{stem}.svg" if bake_svg is not None else None)
        write_file_atomic(files.png, bake_png(text), durable=durable)
        pretty = text if is_jwt else _pretty(text)
        if bake_svg is not None:
            try:  # the indented JSON of the .json file is what bake_svg would write from the dict
                baked = bake_svg(pretty)
            except InputError:  # characters an SVG cannot carry raw: from the dict, bake_svg escapes them
                baked = bake_svg(json.loads(text))
            write_file_atomic(files.svg, baked, durable=durable)
        write_file_atomic(files.credential, pretty.encode("utf-8"), durable=durable)
        write_file_atomic(files.qr, qr_png(page_url), durable=durable)
        written.append(files)
    return written


def _pretty(text: str) -> str:
    """The credential file's text: ``json.dumps(…, indent=2, ensure_ascii=False)`` of ``text``, and a newline."""
    return pretty_json(json.loads(text)) + "\n"


def pretty_json(value: Any) -> str:
    """Exactly ``json.dumps(value, indent=2, ensure_ascii=False)`` for what ``json.loads`` returns, at about
    twice its speed: with an indent, the standard library encodes in pure Python, and a roster writes
    10,000 of these (tests/issuer/awarding/test_outputs.py compares the two on generated documents)."""
    try:
        return _indented(value, "\n")
    except _NotPlain:
        return json.dumps(value, indent=2, ensure_ascii=False)


class _NotPlain(Exception):
    """A value ``json.loads`` does not make (a tuple, a non-string key, NaN…): json.dumps decides."""


_SCALARS: dict[type, Any] = {str: encode_basestring, int: int.__repr__, bool: lambda b: "true" if b else "false",
                             type(None): lambda _: "null"}


def _indented(value: Any, newline: str) -> str:
    kind = type(value)
    if kind is str:  # most values: tested first, and inline below
        return encode_basestring(value)
    if kind is dict:
        if not value:
            return "{}"
        inner = newline + "  "
        parts = []
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain
            parts.append(encode_basestring(key) + ": " + (encode_basestring(item) if type(item) is str
                                                          else _indented(item, inner)))
        return "{" + inner + ("," + inner).join(parts) + newline + "}"
    if kind is list:
        if not value:
            return "[]"
        inner = newline + "  "
        return ("[" + inner + ("," + inner).join([encode_basestring(item) if type(item) is str
                                                  else _indented(item, inner) for item in value])
                + newline + "]")
    if kind is float:
        if value != value or value in (float("inf"), float("-inf")):
            raise _NotPlain
        return float.__repr__(value)
    encode = _SCALARS.get(kind)
    if encode is None:
        raise _NotPlain
    return encode(value)


def write_status_list(settings: Settings, purpose: str, seq: int, credential: dict[str, Any]) -> Path:
    """Write a signed status list credential under ``out/status/``."""
    path = settings.out_dir / "status" / f"{purpose}-{seq}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file_atomic(path, json.dumps(credential, indent=2).encode("utf-8"))
    return path


__all__ = ["CredentialFiles", "achievement_image", "file_stem", "pretty_json", "store_achievement_files",
           "write_credential_files", "write_credential_files_many", "write_status_list"]
