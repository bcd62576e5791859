"""Recipient identity on the issuing side: e-mail normalisation, salted hashes, lookup keys.

Badgesmith hashes the *normalised* address (stripped, NFC, lower-cased), so a
learner who types ``Ana@Example.org`` on the verify page still matches. The
hash format and the normal form belong to the reader, ``verifier.recipient``;
this side adds the check that an address is usable at all.

Two different digests, for two different readers:

- ``identity_object`` goes into the credential: a salted SHA-256 anyone holding
  the address can check, and nobody can reverse without it.
- ``lookup_key`` goes only into the registry: an HMAC under the instance
  secret, so finding a learner's credentials is one index lookup instead of
  re-hashing every credential with its own salt, and a leaked database alone
  cannot be dictionary-attacked.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from typing import Any

from errors import Code, ConfigError, InputError
from verifier.recipient import identity_hash, normalise_email as _normal_form

MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit, minus the angle brackets
SALT_BYTES = 16

# Deliberately pragmatic: one "@", a non-empty local part without spaces,
# quotes or brackets, and a dotted domain of letters, digits and hyphens
# (Unicode letters allowed for internationalised domains).
_LOCAL = re.compile(r"^[^\s@\"(),:;<>\[\]\\]{1,64}$")
_LABEL = re.compile(r"^[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?$")
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # the Cc characters of ASCII (it has no Cf ones)


def _invalid(text: str, why: str) -> InputError:
    shown = text if len(text) <= 80 else text[:77] + "..."
    return InputError(Code.RECIPIENT_INVALID, f"{shown!r} is not a usable e-mail address: {why}.",
                      field="email")


def normalise_email(text: str) -> str:
    """The address in the verifier's normal form (stripped, NFC, lower-cased); RECIPIENT_INVALID if unusable."""
    if not isinstance(text, str):
        raise InputError(Code.RECIPIENT_INVALID, "An e-mail address must be text.", field="email")
    email = _normal_form(text)
    if not email:
        raise _invalid(text, "it is empty")
    if len(email) > MAX_EMAIL_LENGTH:
        raise _invalid(text, f"it is longer than {MAX_EMAIL_LENGTH} characters")
    # NUL, ESC, bidi overrides, zero widths; an ASCII address (nearly all) can hold only the first kind, and
    # a roster normalises each address five times on its way to a credential: one C-level search then.
    if (_ASCII_CONTROL.search(email) if email.isascii()
            else any(unicodedata.category(c) in ("Cc", "Cf") for c in email)):
        raise _invalid(text, "it holds control or invisible formatting characters")
    if email.count("@") != 1:
        raise _invalid(text, "it needs exactly one @")
    local, domain = email.split("@")
    if not _LOCAL.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        raise _invalid(text, "the part before @ is not valid")
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise _invalid(text, "the part after @ is not a domain name like example.org")
    return email


def new_salt() -> str:
    """A fresh random salt: 16 bytes as 32 hex characters."""
    return secrets.token_hex(SALT_BYTES)


def hash_identity(email: str, salt: str) -> str:
    """``"sha256$" + hex(SHA-256(normalised email + salt))`` — the OB 3.0 IdentityHash."""
    return identity_hash(normalise_email(email), salt)


def identity_object(email: str, *, salt: str) -> dict[str, Any]:
    """The OB 3.0 IdentityObject for a hashed, salted e-mail address (normalised first)."""
    return {
        "type": "IdentityObject",
        "identityHash": hash_identity(email, salt),
        "identityType": "emailAddress",
        "hashed": True,
        "salt": salt,
    }


def lookup_key(email: str, secret: bytes) -> str:
    """HMAC-SHA256 (hex) of the normalised address under the instance secret, for the registry index."""
    if len(secret) < 16:
        # A short secret would make the index guessable from a list of addresses.
        raise ConfigError(Code.CONFIG_INVALID, "The instance lookup secret is shorter than 16 bytes: "
                          "restore keys/lookup.secret from a backup.")
    return hmac.new(secret, normalise_email(email).encode("utf-8"), hashlib.sha256).hexdigest()


__all__ = ["MAX_EMAIL_LENGTH", "hash_identity", "identity_object", "lookup_key", "new_salt",
           "normalise_email"]
