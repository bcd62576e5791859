"""Private keys on disk: one PKCS#8 PEM file per key under ``<instance>/keys``.

- Files are created with mode 0600 (directory 0700) and written atomically:
  a temporary file in the same directory, flushed and fsync'ed, then linked
  into place, so a crash never leaves a half-written key and a concurrent
  reader sees the whole key or none. Linking (not renaming) also refuses to
  replace an existing key: overwriting a signing key is never an accident
  we allow (``KEY_EXISTS``).
- A passphrase, when given, encrypts the PEM (cryptography's best available
  PKCS#8 encryption).
- Loading refuses files that other users may read, as ssh does, and errors
  name the file but never its content.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any, Callable

from errors import Code, ConfigError, Conflict, InputError, NotFound
from keys.ed25519 import KeyPair
from keys.jws_keys import SigningKey, load_signing_key

SUFFIX = ".pem"
MAX_KEY_FILE_BYTES = 64 * 1024
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def key_path(directory: str | os.PathLike[str], name: str) -> Path:
    """The file that holds key ``name`` (a plain name such as ``issuer-2025``)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name.endswith(SUFFIX):
        raise InputError(Code.KEY_INVALID,
                         f"The key name {str(name)[:70]!r} is not allowed: use letters, digits, "
                         "'.', '_' and '-' (at most 64, starting with a letter or digit).")
    return Path(directory) / f"{name}{SUFFIX}"


def save_key(directory: str | os.PathLike[str], name: str, key: KeyPair | SigningKey, *,
             passphrase: str | bytes | None = None) -> Path:
    """Write ``key`` as ``<directory>/<name>.pem`` (mode 0600, atomic); return the path.

    Raises ``Conflict(KEY_EXISTS)`` when a key of that name exists already.
    """
    path = key_path(directory, name)
    data = key.to_pem(passphrase)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkstemp creates the file with mode 0600 from the start: there is no moment
    # at which the key is readable by others.
    fd, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)  # atomic, and fails instead of replacing
        except FileExistsError:
            raise Conflict(Code.KEY_EXISTS,
                           f"A key named {name!r} already exists in {path.parent}; choose "
                           "another name (old keys stay so that what they signed still "
                           "verifies).", file=str(path)) from None
    finally:
        os.unlink(temporary)
    _sync_directory(path.parent)
    return path


def load_key(directory: str | os.PathLike[str], name: str, *,
             passphrase: str | bytes | None = None) -> KeyPair:
    """The Ed25519 key saved as ``name``.

    ``NotFound(KEY_NOT_FOUND)`` when there is no such file; ``ConfigError``
    with ``KEY_LOCKED`` (passphrase missing or wrong) or ``KEY_INVALID`` (not
    a usable Ed25519 key, or readable by other users) otherwise.
    """
    return _load(directory, name, lambda data: KeyPair.from_pem(data, passphrase))


def load_jwt_key(directory: str | os.PathLike[str], name: str, *,
                 passphrase: str | bytes | None = None) -> SigningKey:
    """The key saved as ``name`` for signing VC-JWTs: Ed25519, RSA (RS256) or P-256 (ES256).

    Errors as ``load_key``.
    """
    return _load(directory, name, lambda data: load_signing_key(data, passphrase))


def _load(directory: str | os.PathLike[str], name: str, parse: Callable[[bytes], Any]) -> Any:
    path = key_path(directory, name)
    try:
        with open(path, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            data = handle.read(MAX_KEY_FILE_BYTES + 1)
    except FileNotFoundError:
        raise NotFound(Code.KEY_NOT_FOUND, f"There is no key named {name!r} in {path.parent}.",
                       file=str(path)) from None
    except OSError as exc:
        raise ConfigError(Code.KEY_INVALID, f"The key file {path} cannot be read "
                                            f"({exc.strerror or 'I/O error'}).", file=str(path)) from None
    if os.name == "posix" and stat.S_IMODE(mode) & 0o077:
        raise ConfigError(Code.KEY_INVALID,
                          f"The key file {path} can be read by other users; run "
                          f"'chmod 600 {path}' and try again.", file=str(path))
    if len(data) > MAX_KEY_FILE_BYTES:
        raise ConfigError(Code.KEY_INVALID, f"The key file {path} is too large to be a key.",
                          file=str(path))
    try:
        return parse(data)
    except InputError as exc:
        # Same code, but now it is the instance's key that is unusable; name the
        # file, never the content.
        raise ConfigError(exc.code, f"The key file {path}: {exc.message}", file=str(path)) from exc


def list_keys(directory: str | os.PathLike[str]) -> list[str]:
    """The names of the keys saved under ``directory``, sorted; empty when it does not exist."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    return sorted(p.name[:-len(SUFFIX)] for p in folder.iterdir()
                  if p.is_file() and p.name.endswith(SUFFIX) and _NAME.fullmatch(p.name[:-len(SUFFIX)]))


def _sync_directory(directory: Path) -> None:
    # The new directory entry is durable only once the directory itself is synced.
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["key_path", "list_keys", "load_jwt_key", "load_key", "save_key"]
