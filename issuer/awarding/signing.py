"""Signing one award: build the OB credential, sign it, self-check it — without the database.

``AwardSigner`` holds exactly what that takes (settings, key, issuer id and
profile, the DID document a did:web verifier would fetch, the loader); the
``Issuer`` builds one per issue or roster batch, and the VC API shares its
self-check. Keeping it free of the registry means it could run in worker
processes on a machine with more cores.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any, Iterable, Sequence

from errors import BadgesmithError, Code, ConfigError, InputError
from issuer.badge.achievement import add_duration
from issuer.badge.credential import Award, Recipient, build_credential, evidence_for_url
from issuer.badge.recipient import identity_object
from issuer.badge.sign import sign_credential
from issuer.instance.settings import Settings
from keys.data_integrity import (EDDSA_RDFC_2022, append_proof, create_proof, hash_proof_options, verify_proof,
                                  without_proof)
from keys.did import did_web_url
from keys.ed25519 import KeyPair
from keys.jws_keys import SigningKey
from keys.keystore import load_key
from keys.rdfc import canonicalize
from schemas.loader import offline_loader
from verifier.fetch import DictFetch
from verifier.pipeline import Verifier, VerifyOptions, credential_from_jwt_payload
from verifier.report import FAILED, Check


@dataclass(frozen=True, slots=True)
class Terms:
    """An award's date, validity window and credits, checked against the achievement."""

    awarded: date
    valid_from: datetime
    valid_until: datetime | None
    credits: float | None


def award_terms(definition: dict[str, Any], request: Any, today: date) -> Terms:
    """The terms of ``request`` for the achievement ``definition`` (CREDITS_EXCEEDED when over)."""
    ob = definition["ob"]
    available = ob.get("creditsAvailable")
    if request.credits is not None and available is not None and request.credits > available:
        raise InputError(Code.CREDITS_EXCEEDED,
                         f"{request.credits:g} credits is more than the {available:g} that {ob['name']!r} offers.")
    awarded = request.date or today
    starts = getattr(request, "starts", None) or awarded  # a renewal's cycle may start after its award
    valid_until = None
    if definition.get("valid_for"):
        valid_until = datetime.combine(add_duration(starts, definition["valid_for"]), time(0, 0),
                                       tzinfo=timezone.utc)
    return Terms(awarded, datetime.combine(starts, time(0, 0), tzinfo=timezone.utc), valid_until,
                 request.credits if request.credits is not None else available)


def issuer_profile(settings: Settings, did: str) -> dict[str, Any]:
    """The issuer's OB 3.0 Profile (its id is the issuer DID; ``url`` its web site)."""
    profile: dict[str, Any] = {"id": did, "type": ["Profile"], "name": settings.name, "url": settings.url}
    if settings.email:
        profile["email"] = settings.email
    link = settings.association
    if link is not None and link.role == "division":
        # OB 3.0 Profile.parentOrg: every credential of a division names the association it belongs to.
        profile["parentOrg"] = {"id": link.did, "type": ["Profile"], "name": link.name, "url": link.url}
    return profile


def self_check_failures(signed: dict[str, Any] | str, *, loader: Any, did: str, did_document: dict | None,
                        now: datetime, skip: Sequence[str] = ("validity",)) -> list[Check]:
    """The failed checks the verifier reports for a credential just signed (status is never fetched:
    the list is being written in the same transaction; did:web resolves to ``did_document``)."""
    documents = {did_web_url(did): json.dumps(did_document).encode()} if did_document is not None else {}
    verifier = Verifier(loader=loader, fetch=DictFetch(documents), now=now,
                        options=VerifyOptions(allow_unreachable_status=True))
    if isinstance(signed, str):
        from keys.vc_jwt import decode_jwt

        report = verifier.verify_credential(credential_from_jwt_payload(decode_jwt(signed)[1]), container="jwt",
                                            jwt=signed)
    else:
        report = verifier.verify_credential(signed)
    return [c for c in report.checks if c.outcome == FAILED and c.check not in skip]


@dataclass(frozen=True)
class AwardSigner:
    """Everything signing an award needs, and no database."""

    settings: Settings
    key: KeyPair
    did: str
    verification_method: str
    did_document: dict[str, Any] | None
    loader: Any
    # (verification method, key) that signs VC-JWTs when [defaults] jwt_alg is RS256/ES256; None: the Ed25519 key
    jwt_key: tuple[str, SigningKey] | None = None
    # credential shapes the whole verifier passed -> the hash of their proof options (see _self_check)
    _vetted: dict[tuple, bytes] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def profile(self) -> dict[str, Any]:
        return issuer_profile(self.settings, self.did)

    def build(self, definition: dict[str, Any], request: Any, *, credential_id: str, status: Iterable[dict],
              salt: str, now: datetime) -> dict[str, Any]:
        """The unsigned credential for ``request``."""
        terms = award_terms(definition, request, now.date())
        evidence = (((evidence_for_url(request.evidence),) if request.evidence else ())
                    + tuple(request.evidence_items))
        recipient = Recipient(identity=identity_object(request.email, salt=salt), did=request.did,
                              name=request.name)
        # awardedDate only where validFrom is not the award date (a renewal's next cycle): OB 3.0 keeps it
        # for exactly that, and LinkedIn and the pages show it as the date it was awarded.
        awarded = (None if terms.valid_from.date() == terms.awarded
                   else datetime.combine(terms.awarded, time(0, 0), tzinfo=timezone.utc))
        award = Award(credits_earned=terms.credits, valid_from=terms.valid_from, valid_until=terms.valid_until,
                      evidence=evidence, status=tuple(status), awarded=awarded)
        return build_credential(issuer=self.profile, achievement=definition["ob"], recipient=recipient,
                                award=award, now=now, new_id=lambda: credential_id)

    def sign(self, definition: dict[str, Any], request: Any, *, credential_id: str, salt: str,
             status: Iterable[dict], fmt: str, now: datetime) -> str:
        """Build, sign and self-check one award; the signed text (JSON or a compact JWT)."""
        unsigned = self.build(definition, request, credential_id=credential_id, status=status, salt=salt, now=now)
        return self.sign_checked(unsigned, fmt=fmt, now=now)

    def sign_checked(self, unsigned: dict[str, Any], *, fmt: str, now: datetime) -> str:
        """Sign any credential of this issuer (an award, an endorsement) and self-check it; the signed text.

        A VC-JWT is signed with the ``jwt_alg`` key when there is one, everything else with the Ed25519 key.
        """
        signed = self.signed(unsigned, fmt=fmt, now=now)
        failures = self.self_check(signed, now=now)
        if failures:
            raise ConfigError(Code.SELF_CHECK_FAILED,
                              f"The credential Badgesmith just signed does not verify ({failures[0].message}); "
                              "it was not stored.")
        return signed.text

    def signed(self, unsigned: dict[str, Any], *, fmt: str, now: datetime) -> Signed:
        """``unsigned`` signed, not yet self-checked: the text to store, and what ``self_check`` reads.

        An eddsa-rdfc-2022 proof is made here from one canonicalization, kept for the self-check; it is
        the proof ``keys.eddsa_rdfc_2022.sign`` makes, byte for byte (tests/issuer/awarding/test_signing.py).
        """
        if fmt == "di" and isinstance(unsigned, dict) and unsigned and "proof" not in unsigned:
            # Written out before it is canonicalized, and the stored text made from that: a change to the dict
            # during or after signing makes it differ from the text, which the self-check compares.
            written = json.dumps(unsigned, ensure_ascii=False)
            canonical = canonicalize(unsigned, loader=self.loader)
            proof = create_proof(unsigned, self.key, suite=EDDSA_RDFC_2022, loader=self.loader, created=now,
                                 verification_method=self.verification_method, canonical_document=canonical)
            # json.dumps of the credential with its proof, the last member (append_proof), without a second pass
            text = f'{written[:-1]}, "proof": {json.dumps([proof], ensure_ascii=False)}}}'
            return Signed(text, append_proof(unsigned, proof), canonical)
        method, key = (self.jwt_key if fmt == "jwt" and self.jwt_key is not None
                       else (self.verification_method, self.key))
        signed = sign_credential(unsigned, key, fmt=fmt, loader=self.loader, created=now,
                                 verification_method=method)
        return Signed(signed) if isinstance(signed, str) else Signed(json.dumps(signed, ensure_ascii=False))

    def self_check(self, signed: Signed, *, now: datetime) -> list[Check]:
        """The failed checks of the credential as ``signed.text`` (what is stored, baked and written) reads.

        The first credential of each shape goes through the whole verifier. Later ones of the same
        shape (same JSON skeleton, contexts, issuer and proof options: a roster batch) are parsed back
        from the text and checked for what can differ between them: that the text is, value for value
        and type for type, the credential that was signed (when ``signed`` carries it); the schema
        check; and the Ed25519 signature over the proof-options hash the full check confirmed and the
        canonical form the signing step made (or, without one, the canonical form re-derived from the
        text, spelling rule and limits included).
        """
        text = signed.text
        if not text.startswith("{"):  # a VC-JWT: always the whole verifier
            return self_check_failures(text, loader=self.loader, did=self.did, did_document=self.did_document,
                                       now=now)
        credential = json.loads(text)
        shape = _shape_of(credential)
        proof_hash = self._vetted.get(shape)
        if proof_hash is None:
            failures = self_check_failures(credential, loader=self.loader, did=self.did,
                                           did_document=self.did_document, now=now)
            if not failures and shape is not None:
                self._vetted[shape] = hash_proof_options(credential, credential["proof"][0], loader=self.loader)
            return failures
        if signed.credential is not None and not same_json(credential, signed.credential):
            return [Check("proof", FAILED, Code.PROOF_INVALID.value,
                          "The credential as written is not the credential that was signed.")]
        verifier = Verifier(loader=self.loader, fetch=DictFetch({}), now=now)
        failures = [c for c in (verifier.check_schema(credential),) if c.outcome == FAILED]
        try:
            canonical = (signed.canonical if signed.canonical is not None
                         else canonicalize(without_proof(credential), loader=self.loader))
            if not verify_proof(credential, credential["proof"][0], self.key.public_key, loader=self.loader,
                                canonical_document=canonical, proof_hash=proof_hash):
                failures.append(Check("proof", FAILED, Code.PROOF_INVALID.value,
                                      "The signature does not match the credential as it was written."))
        except BadgesmithError as error:
            failures.append(Check("proof", FAILED, error.code.value, error.message))
        return failures


@dataclass(frozen=True, slots=True)
class SignerSpec:
    """An ``AwardSigner`` without its key, to send to another process (a roster's workers): the
    key is read there from the instance's key store (``KeyPair`` refuses to be pickled, on purpose)
    and used only if it is the key named here."""

    settings: Settings
    public_multikey: str
    did: str
    verification_method: str
    did_document: dict[str, Any] | None

    @classmethod
    def of(cls, signer: AwardSigner) -> SignerSpec:
        return cls(signer.settings, signer.key.public_key.to_multikey(), signer.did, signer.verification_method,
                   signer.did_document)

    def signer(self) -> AwardSigner | None:
        """A fresh signer with the key read from the key store; None when it cannot be read without a
        passphrase, or is not this key (replaced meanwhile): the caller then signs itself."""
        try:
            key = load_key(self.settings.keys_dir, self.settings.key_id)
        except BadgesmithError:
            return None
        if key.public_key.to_multikey() != self.public_multikey:
            return None
        return AwardSigner(self.settings, key, self.did, self.verification_method, self.did_document,
                           offline_loader())


@dataclass(frozen=True, slots=True)
class Signed:
    """A credential just signed: the text that is stored, baked and written and, for a Data Integrity
    proof made by ``AwardSigner.signed``, the credential it signed and the canonical form (RDFC-1.0
    N-Quads of the credential without its proof) the signature covers."""

    text: str
    credential: dict[str, Any] | None = None
    canonical: str | None = None


def same_json(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` are the same JSON value, type for type: 1, 1.0 and true differ (Python's
    ``==`` says they are equal), and so do a list and a tuple; object members in any order."""
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is dict:
        return len(a) == len(b) and all(k in b and same_json(v, b[k]) for k, v in a.items())
    if kind is list:
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    return a == b  # NaN is never the same as itself: it is not JSON either


def _skeleton(value: Any) -> Any:
    """The JSON structure of ``value``: keys in order and value types, without the values."""
    if isinstance(value, dict):
        return ("{", *((k, _skeleton(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("[", *(_skeleton(v) for v in value))
    return type(value).__name__


def _shape_of(credential: Any) -> tuple | None:
    """What makes two signed credentials alike for the self-check: the skeleton, and the exact
    contexts, issuer and proof (but its proofValue); None when there is not exactly one proof."""
    proofs = credential.get("proof") if isinstance(credential, dict) else None
    if not isinstance(proofs, list) or len(proofs) != 1 or not isinstance(proofs[0], dict):
        return None
    options = {k: v for k, v in proofs[0].items() if k != "proofValue"}
    return (_skeleton(credential),
            json.dumps([credential.get("@context"), credential.get("issuer"), options], sort_keys=True))


__all__ = ["AwardSigner", "Signed", "SignerSpec", "Terms", "award_terms", "issuer_profile", "same_json", "self_check_failures"]
