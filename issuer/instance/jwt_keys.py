"""The instance's RSA (RS256) and P-256 (ES256) keys for VC-JWTs, beside its Ed25519 key.

They live in ``keys/`` as ``rs256-N.pem`` / ``es256-N.pem`` (0600, same
passphrase as the Ed25519 key) and are listed in ``[keys] jwt``; every listed
key is published in the did:web DID document as a ``JsonWebKey``, so a new
one (``keys add`` again) leaves the old ones verifying. ``[defaults] jwt_alg``
picks the algorithm of issued VC-JWTs; the newest listed key of that type signs.
A did:key issuer names only its Ed25519 key, so these keys need did:web.
"""

from __future__ import annotations

from pathlib import Path

from errors import Code, ConfigError, InputError, NotFound
from issuer.instance.settings import Settings, record_jwt_key
from keys.jws_keys import SigningKey, generate_signing_key, jwt_algorithm
from keys.keystore import list_keys, load_jwt_key, save_key

PREFIX = {"RS256": "rs256", "ES256": "es256"}


def add_jwt_key(settings: Settings, alg: str, *, passphrase: str | None = None, make_default: bool = False) -> str:
    """Generate an RS256 (RSA-2048) or ES256 (P-256) key, save it, list it in ``[keys] jwt``; its id.

    ``make_default`` also sets ``[defaults] jwt_alg``. CONFIG_INVALID for a did:key issuer.
    """
    if alg not in PREFIX:
        raise InputError(Code.USAGE, f"keys add makes RS256 or ES256 keys, not {alg!r} (the Ed25519 key signs "
                         "EdDSA; `keys rotate` replaces it).")
    taken = set(list_keys(settings.keys_dir)) | set(settings.jwt_keys)
    number = 1
    while f"{PREFIX[alg]}-{number}" in taken:
        number += 1
    key_id = f"{PREFIX[alg]}-{number}"
    if settings.did_method != "web":
        raise ConfigError(Code.CONFIG_INVALID, f"An {alg} key is published in a did:web DID document, and this "
                          "issuer is a did:key (which names only its Ed25519 key): set did_method = \"web\" and "
                          "did_web in badgesmith.toml first (or `init --did-web`).")
    key = generate_signing_key(alg)
    save_key(settings.keys_dir, key_id, key, passphrase=passphrase)
    record_jwt_key(settings.home, key_id, default_alg=alg if make_default else None)
    return key_id


def load_jwt_keys(settings: Settings, *, passphrase: str | None = None) -> dict[str, SigningKey]:
    """Every key listed in ``[keys] jwt``, by id (KEY_NOT_FOUND / KEY_LOCKED / KEY_INVALID as ``load_key``)."""
    return {key_id: load_jwt_key(settings.keys_dir, key_id, passphrase=passphrase) for key_id in settings.jwt_keys}


def jwt_signing_key(settings: Settings, keys: dict[str, SigningKey]) -> tuple[str, SigningKey] | None:
    """The (id, key) that signs the instance's VC-JWTs, or None when ``jwt_alg`` is EdDSA (the Ed25519 key).

    The newest listed key of the ``jwt_alg`` type; KEY_NOT_FOUND when there is none.
    """
    if settings.jwt_alg == "EdDSA":
        return None
    matching = [(key_id, key) for key_id, key in keys.items() if jwt_algorithm(key) == settings.jwt_alg]
    if not matching:
        raise NotFound(Code.KEY_NOT_FOUND, f"jwt_alg is {settings.jwt_alg} but [keys] jwt lists no such key: run "
                       f"`badgesmith keys add --alg {settings.jwt_alg}`.", file=str(Path(settings.home) / "badgesmith.toml"))
    return matching[-1]


__all__ = ["add_jwt_key", "jwt_signing_key", "load_jwt_keys"]
