"""The verification pipeline: read anything, run the checks in order, return a Report.

``verify_bytes`` is the front door (CLI, web, issuer self-check). Unreadable
input raises a ``BadgesmithError`` (CLI exit 2, HTTP 400); everything after
reading is a check in the report. A ``BadgesmithError`` raised inside a check
becomes a failed ``Check`` with the same code and message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping

from errors import BadgesmithError, Code, InputError
from keys.data_integrity import without_proof
from keys.rdfc import DEFAULT_LIMITS as RDFC_LIMITS, Limits as RdfcLimits, canonicalize
from keys.vc_jwt import decode_jwt, extract_credential
from schemas.validate import validate, warm_up as load_schema_checks
from verifier.clr import EMBEDDED_CONTAINER, check_clr_schema, is_clr, verify_embedded
from verifier.endorsement_jwt import verify_endorsement_jwts, without_endorsement_jwts
from verifier.endorsements import ENDORSEMENT_CONTAINER, verify_endorsements
from verifier.fetch import FetchBudget
from verifier.credential_status import StatusChecker
from verifier.data_model import data_model_problems
from verifier.proofs import ProofOutcome, check_data_integrity, check_jwt, issuer_id
from verifier.presentation import envelope_payload, is_presentation, verify_presentation
from verifier.recipient import matches_subject
from verifier.related_resources import compare_related_resources, mismatch_sentence
from verifier.report import FAILED, PASSED, SKIPPED, WARNING, Check, Report
from verifier.sources import Limits as SourceLimits, extract
from verifier.summary import summarize
from verifier.validity import check_window, describe_window

VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
OB_TYPES = {"OpenBadgeCredential", "AchievementCredential"}
CURRENT_OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"

# The common credential shape, canonicalized by warm_up() (with and without the extensions
# context, as issuers write it) so that a server's first verification finds the pinned
# contexts and their type-scoped contexts already processed.
_WARM_UP_CREDENTIAL: dict[str, Any] = {
    "id": "urn:uuid:00000000-0000-4000-8000-000000000000",
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "name": "Warm-up",
    "issuer": {"id": "did:example:warm-up", "type": ["Profile"], "name": "Warm-up", "url": "https://example.org",
               "email": "warm-up@example.org", "image": {"id": "https://example.org/logo.png", "type": "Image"}},
    "validFrom": "2026-01-01T00:00:00Z",
    "credentialSubject": {
        "type": ["AchievementSubject"],
        "identifier": [{"type": "IdentityObject", "identityHash": "sha256$00", "identityType": "emailAddress",
                        "hashed": True, "salt": "00"}],
        "achievement": {"id": "https://example.org/achievements/warm-up", "type": ["Achievement"],
                        "name": "Warm-up", "description": "Warm-up.", "criteria": {"narrative": "Warm-up."},
                        "image": {"id": "https://example.org/warm-up.png", "type": "Image"},
                        "achievementType": "Course", "creditsAvailable": 1.5},
        "creditsEarned": 1.5,
    },
    "evidence": [{"id": "https://example.org/evidence/1", "type": ["Evidence"], "name": "Warm-up"}],
    "credentialStatus": {"id": "https://example.org/status/1#1", "type": "BitstringStatusListEntry",
                         "statusPurpose": "revocation", "statusListIndex": "1",
                         "statusListCredential": "https://example.org/status/1"},
}
_WARM_UP_SCHEMA = [{"id": "https://example.org/schema.json", "type": "1EdTechJsonSchemaValidator2019"}]
_WARM_UP_PROOF: dict[str, Any] = {
    "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2026-01-01T00:00:00Z",
    "verificationMethod": "did:example:warm-up#key-1", "proofPurpose": "assertionMethod",
}
PRESENTATION_CONTAINER = "presentation"  # a credential read from inside a Verifiable Presentation


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    """The caller's policy choices (all strict by default)."""

    allow_unreachable_status: bool = False
    require_trusted: bool = False
    accept_unbound_keys: bool = False
    source_limits: SourceLimits = field(default_factory=SourceLimits)
    rdfc_limits: RdfcLimits = RDFC_LIMITS


@dataclass(slots=True)
class _Run:
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, check: str, outcome: str, code: str | Code, message: str) -> None:
        self.checks.append(Check(check, outcome, getattr(code, "value", code), message))

    def fail(self, check: str, error: BadgesmithError) -> None:
        self.add(check, FAILED, error.code, error.message)


_GOOD_NEWS = {Code.VALIDITY_OK.value, Code.STATUS_OK.value}


def _unsigned_good_news(run: _Run, check: str, why: str) -> None:
    """Turn a passing ``check`` into NOT_CHECKED: on a credential whose signature fails, it read unsigned JSON."""
    for i, done in enumerate(run.checks):
        if done.check == check and done.code in _GOOD_NEWS:
            run.checks[i] = Check(check, SKIPPED, Code.NOT_CHECKED.value,
                                  f"Not checked: the signature did not verify, so {why}.")


def _types(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    return {v for v in value if isinstance(v, str)} if isinstance(value, list) else set()


def _contexts(credential: dict[str, Any]) -> list[Any]:
    context = credential.get("@context")
    if context is None:
        return []
    return context if isinstance(context, list) else [context]


def credential_from_jwt_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The credential inside a VC-JWT payload (VC 2.0: the payload; VC 1.1: the ``vc`` claim)."""
    return extract_credential(payload)[0]


class Verifier:
    """Runs the checks of DESIGN.md with injected loader, fetch, clock and trust list."""

    def __init__(self, *, loader: Any, fetch: Callable[[str], bytes], now: datetime,
                 trust: Mapping[str, str] | None = None, options: VerifyOptions = VerifyOptions()) -> None:
        self.loader, self.fetch, self.now = loader, fetch, now
        self.trust, self.options = trust, options

    # -- checks -----------------------------------------------------------------------------

    def _check_context(self, run: _Run, credential: dict[str, Any]) -> str | None:
        contexts = _contexts(credential)
        if not contexts or contexts[0] not in (VC_V2, VC_V1):
            run.add("context", FAILED, Code.CONTEXT_MISSING,
                    "The credential's first @context is not the W3C Verifiable Credentials context.")
            return None
        for url in contexts:
            if isinstance(url, str) and url not in self.loader:
                run.add("context", FAILED, Code.CONTEXT_NOT_ALLOWED,
                        f"The context {url[:200]} is not one of the pinned contexts; "
                        "contexts are never fetched from the network.")
                return None
        try:
            canonical = canonicalize(without_proof(credential), loader=self.loader,
                                     limits=self.options.rdfc_limits)
        except BadgesmithError as error:
            run.fail("context", error)
            return None
        if contexts[0] == VC_V1:
            run.add("context", WARNING, Code.LEGACY_DATA_MODEL,
                    "Uses the older VC 1.1 data model; every term is defined by pinned contexts.")
        elif any(isinstance(c, str) and "/ob/v3p0/" in c and c != CURRENT_OB_CONTEXT
                 and not c.endswith("extensions.json") for c in contexts):
            run.add("context", WARNING, Code.LEGACY_DATA_MODEL,
                    "Uses an older Open Badges context version; every term is defined.")
        else:
            run.add("context", PASSED, Code.CONTEXT_OK, "Every context is pinned and every term is defined.")
        return canonical

    def _check_schema(self, run: _Run, credential: dict[str, Any]) -> None:
        types = _types(credential.get("type"))
        if "VerifiableCredential" not in types:
            run.add("schema", FAILED, Code.TYPE_INVALID, "The credential's type does not include VerifiableCredential.")
            return
        subject = credential.get("credentialSubject")
        if issuer_id(credential) is None or not isinstance(subject, (dict, list)):
            run.add("schema", FAILED, Code.SCHEMA_INVALID, "The credential lacks an issuer or a credentialSubject.")
            return
        problems = data_model_problems(credential)
        if problems:
            run.add("schema", FAILED, Code.DATA_MODEL_INVALID,
                    f"Not a valid verifiable credential: {problems[0].message}")
            return
        if "relatedResource" in credential:
            related = compare_related_resources(credential, self.fetch, contexts=self.loader)
            if related.mismatched:
                run.add("schema", FAILED, Code.RELATED_RESOURCE_MISMATCH, mismatch_sentence(related.mismatched[0]))
                return
            run.warnings.extend(related.notes())
        if is_clr(credential):
            run.checks.append(check_clr_schema(credential))
            return
        if not types & OB_TYPES:
            if "EndorsementCredential" in types:
                run.add("schema", PASSED, Code.SCHEMA_OK, "A well-formed Open Badges EndorsementCredential.")
            else:
                run.add("schema", WARNING, Code.TYPE_INVALID,
                        "Not an Open Badge: checked as a plain Verifiable Credential.")
            return
        if not isinstance(subject, dict) or not isinstance(subject.get("achievement"), dict):
            run.add("schema", FAILED, Code.SCHEMA_INVALID, "The credentialSubject names no achievement.")
            return
        unidentified = not subject.get("id") and not subject.get("identifier")
        if unidentified:
            # OB §9.1 wants an id or identifier, but credentials in circulation
            # (DCC wallets) name the learner only in "name": say so, don't fail.
            run.add("schema", WARNING, Code.SUBJECT_UNIDENTIFIED,
                    "The credentialSubject has neither an id nor an identifier, so it cannot be "
                    "matched to a person by anything but the name it shows.")
            return
        if VC_V1 in _contexts(credential):
            run.add("schema", WARNING, Code.LEGACY_DATA_MODEL,
                    "A VC 1.1-shaped Open Badge: the OB 3.0 (VC 2.0) schema does not apply.")
            return
        problems = validate(credential)
        statuses = credential.get("credentialStatus")
        if problems and isinstance(statuses, list) and statuses and all(
                not validate({**credential, "credentialStatus": entry}) for entry in statuses):
            # The OB 3.0 schemas allow one credentialStatus object; VC 2.0 allows
            # several (revocation + suspension). Each entry alone passes: accept.
            problems = []
        if problems:
            shown = "; ".join(str(p) for p in problems[:3])
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            run.add("schema", FAILED, Code.SCHEMA_INVALID,
                    f"The credential does not match the Open Badges 3.0 schema: {shown}{more}.")
            return
        run.add("schema", PASSED, Code.SCHEMA_OK, "Matches the official Open Badges 3.0 schema.")

    def _check_proof(self, run: _Run, credential: dict[str, Any], jwt: str | None,
                     canonical: str | None) -> ProofOutcome:
        accept = self.options.accept_unbound_keys
        if jwt is not None:
            outcome = check_jwt(jwt, credential, fetch=self.fetch, accept_unbound_keys=accept)
        elif canonical is None:
            run.add("proof", SKIPPED, Code.PROOF_NOT_CHECKED,
                    "The signature cannot be checked because the credential's JSON-LD is not usable.")
            return ProofOutcome()
        else:
            outcome = check_data_integrity(credential, loader=self.loader, fetch=self.fetch,
                                           accept_unbound_keys=accept, limits=self.options.rdfc_limits,
                                           canonical_document=canonical)
        if outcome.errors:
            run.fail("proof", outcome.errors[0])
        elif outcome.warnings:
            run.add("proof", WARNING, Code.KEY_UNBOUND if any("anyone" in w for w in outcome.warnings)
                    else Code.PROOF_OK, "The signature matches, but: " + " ".join(outcome.warnings))
        else:
            run.add("proof", PASSED, Code.PROOF_OK,
                    "The signature matches the credential and the key belongs to the issuer.")
        return outcome

    def _check_validity(self, run: _Run, credential: dict[str, Any]) -> None:
        problem = check_window(credential, self.now)
        if problem is None:
            run.add("validity", PASSED, Code.VALIDITY_OK, describe_window(credential))
        else:
            run.add("validity", FAILED, problem.code, problem.message)

    def _check_status(self, run: _Run, credential: dict[str, Any]) -> None:
        checker = StatusChecker(fetch=self.fetch, loader=self.loader, now=self.now,
                                limits=self.options.rdfc_limits,
                                accept_unbound_keys=self.options.accept_unbound_keys)
        results = checker.check(credential)
        if not results:
            run.add("status", SKIPPED, Code.NO_STATUS, "The credential has no status information.")
            return
        failed = [r for r in results if r.outcome == FAILED]
        hard = [r for r in failed if not (r.code == Code.STATUS_UNREACHABLE.value
                                          and self.options.allow_unreachable_status)]
        if hard:
            worst = next((r for r in hard if r.code in (Code.REVOKED.value, Code.SUSPENDED.value)), hard[0])
            run.add("status", FAILED, worst.code, worst.message)
        elif failed:
            run.add("status", WARNING, failed[0].code, failed[0].message + " (allowed by your settings)")
        elif any(r.outcome == WARNING for r in results):
            # STATUS_OK only when some entry was read and is clear; entries of other purposes say nothing.
            read = any(r.code in (Code.STATUS_OK.value, Code.NOT_SUSPENDED.value) for r in results)
            run.add("status", WARNING, Code.STATUS_OK if read else Code.STATUS_PURPOSE_OTHER,
                    " ".join(r.message for r in results))
        else:
            run.add("status", PASSED, Code.STATUS_OK, " ".join(r.message for r in results))

    def _check_trust(self, run: _Run, credential: dict[str, Any]) -> None:
        issuer = issuer_id(credential) or "(none)"
        if self.trust is None:
            outcome = FAILED if self.options.require_trusted else SKIPPED
            run.add("issuer_trust", outcome, Code.ISSUER_UNKNOWN if outcome == FAILED else Code.NO_TRUST_LIST,
                    "No list of known issuers was given.")
            return
        name = self.trust.get(issuer)
        if name:
            run.add("issuer_trust", PASSED, Code.ISSUER_KNOWN, f"Issued by {name} (known issuer).")
        else:
            run.add("issuer_trust", FAILED if self.options.require_trusted else WARNING, Code.ISSUER_UNKNOWN,
                    f"The issuer {issuer[:120]} is not on your list of known issuers.")

    def _check_recipient(self, run: _Run, credential: dict[str, Any], email: str | None) -> None:
        if email is None:
            return
        subject = credential.get("credentialSubject")
        if isinstance(subject, dict) and matches_subject(subject, email):
            run.add("recipient", PASSED, Code.RECIPIENT_MATCH, f"Awarded to {email}.")
        else:
            run.add("recipient", FAILED, Code.RECIPIENT_MISMATCH,
                    f"The credential was not awarded to {email}.")

    # -- entry points ------------------------------------------------------------------------

    def check_schema(self, credential: dict[str, Any]) -> Check:
        """The schema check alone, exactly as ``verify_credential`` runs it (the issuer's self-check
        runs it on every credential it signs, also those it does not verify in full)."""
        run = _Run()
        self._check_schema(run, credential)
        return run.checks[-1]

    def verify_credential(self, credential: dict[str, Any], *, container: str = "json",
                          jwt: str | None = None, email: str | None = None) -> Report:
        """Run every check on an already-read credential."""
        run = _Run()
        run.add("container", PASSED, Code.CONTAINER_OK, _container_sentence(container))
        run.add("json", PASSED, Code.JSON_OK, "The credential is a well-formed JSON object.")
        # A VC-JWT signs the JSON itself, so endorsementJwt (which the pinned OB context does not
        # define) is read by name there and verified as its own credential below (README, Decisions).
        canonical = self._check_context(run, credential if jwt is None else without_endorsement_jwts(credential))
        if run.checks[-1].code == Code.JSON_RESPELLED.value:
            return self._refused(run, credential, container, email)
        self._check_schema(run, credential)
        outcome = self._check_proof(run, credential, jwt, canonical)
        self._check_validity(run, credential)
        self._check_status(run, credential)
        proof = next(c for c in run.checks if c.check == "proof")
        if proof.outcome in (FAILED, SKIPPED):
            # Only a signature that verifies says who issued it and what it says: a forged issuer is
            # not "known", and forged dates or status entries must not read as "valid"/"not revoked".
            # Bad news stays (a claimed revocation is worth seeing); good news becomes not checked.
            _unsigned_good_news(run, "validity", "the dates it shows are only claimed")
            _unsigned_good_news(run, "status", "its status entry is only claimed")
            run.add("issuer_trust", SKIPPED, Code.NOT_CHECKED,
                    "Not checked: the signature did not verify, so the issuer is only claimed.")
        else:
            self._check_trust(run, credential)
        self._check_recipient(run, credential, email)
        embedded: tuple = ()
        if is_clr(credential) and container != EMBEDDED_CONTAINER:  # a transcript: one level down
            embedded, notes = verify_embedded(self, credential, email=email)
            run.warnings.extend(notes)
        if container != ENDORSEMENT_CONTAINER:  # endorsements of endorsements are not followed
            endorsed, notes = verify_endorsements(self, credential)
            embedded += endorsed
            run.warnings.extend(notes)
            if jwt is not None:
                endorsed, notes = verify_endorsement_jwts(self, credential)
                embedded += endorsed
                run.warnings.extend(notes)
        return Report(checks=tuple(run.checks), format=outcome.format, container=container,
                      credential=summarize(credential), warnings=tuple(run.warnings), embedded=embedded)

    def _refused(self, run: _Run, credential: dict[str, Any], container: str, email: str | None) -> Report:
        """A re-spelled credential: nothing it claims is judged, so no check can look passed."""
        for check in ("schema", "proof", "validity", "status", "issuer_trust") + (("recipient",) if email else ()):
            run.add(check, SKIPPED, Code.NOT_CHECKED,
                    "Not checked: the credential's JSON does not spell what was signed (see context).")
        return Report(checks=tuple(run.checks), format=None, container=container,
                      credential=summarize(credential), warnings=tuple(run.warnings))

    def verify_presentation(self, presentation: dict[str, Any], *, email: str | None = None) -> Report:
        """A presentation file (what a wallet exports): the holder's proof if any, then every credential in it.

        There is no challenge to check outside a live exchange, so a missing
        holder proof is a warning; the credentials carry the verdict.
        """
        def each(credential: dict[str, Any]) -> Report:
            try:
                data = envelope_payload(credential)
                if data is not None:
                    # Only a VC-JWT: an envelope holding JSON (say, another presentation) would nest.
                    if extract(data, limits=self.options.source_limits).jwt is None:
                        raise InputError(Code.CONTAINER_UNKNOWN, "An enveloped credential must carry a VC-JWT.")
                    return self.verify_bytes(data, email=email)
            except BadgesmithError as error:
                return Report(checks=(Check("container", FAILED, error.code.value, error.message),),
                              container=PRESENTATION_CONTAINER)
            return self.verify_credential(credential, container=PRESENTATION_CONTAINER, email=email)

        return verify_presentation(presentation, loader=self.loader, fetch=self.fetch, verify_credential=each,
                                   limits=self.options.rdfc_limits, require_proof=False)

    def verify_bytes(self, data: bytes, *, email: str | None = None) -> Report:
        """Read ``data`` (JSON, JWT, PNG or SVG) and verify the credential (or presentation) in it."""
        extracted = extract(data, limits=self.options.source_limits)
        if extracted.credential is not None and is_presentation(extracted.credential):
            return self.verify_presentation(extracted.credential, email=email)
        if extracted.jwt is not None:
            _, payload, _, _ = decode_jwt(extracted.jwt)
            credential = credential_from_jwt_payload(payload)
            return self.verify_credential(credential, container=extracted.container,
                                          jwt=extracted.jwt, email=email)
        return self.verify_credential(extracted.credential, container=extracted.container, email=email)


def _container_sentence(container: str) -> str:
    return {"png": "Read from a baked PNG image.", "svg": "Read from a baked SVG image.",
            "jwt": "Read a compact VC-JWT.", "json": "Read a credential JSON document.",
            EMBEDDED_CONTAINER: "Read from inside a CLR transcript.",
            PRESENTATION_CONTAINER: "Read from inside a presentation."}.get(
        container, f"Read from {container}.")


def warm_up(loader: Any) -> None:
    """Do now what a process's first verification would: load the schema checks, process the contexts.

    A server calls it before its first request (``app.create_app``: each gunicorn
    worker), so no visitor waits for it. Nothing is verified or fetched; a loader
    without the pinned OB contexts is simply not warmed.
    """
    load_schema_checks()
    plain = {"@context": [VC_V2, CURRENT_OB_CONTEXT], **_WARM_UP_CREDENTIAL}
    extended = {"@context": [VC_V2, CURRENT_OB_CONTEXT, OB_EXTENSIONS], **_WARM_UP_CREDENTIAL,
                "credentialSchema": _WARM_UP_SCHEMA}  # its type is defined by the extensions context
    for credential in (plain, extended):
        try:
            canonicalize(credential, loader=loader)
            canonicalize({"@context": credential["@context"], **_WARM_UP_PROOF}, loader=loader)
        except BadgesmithError:
            continue


def verify_bytes(data: bytes, *, loader: Any, fetch: Callable[[str], bytes], now: datetime,
                 trust: Mapping[str, str] | None = None, email: str | None = None,
                 options: VerifyOptions = VerifyOptions()) -> Report:
    """Verify the credential in ``data``; raises ``BadgesmithError`` only for unreadable input.

    Everything this one verification fetches shares one ``FetchBudget``.
    """
    verifier = Verifier(loader=loader, fetch=FetchBudget(fetch), now=now, trust=trust, options=options)
    return verifier.verify_bytes(data, email=email)


__all__ = ["Verifier", "VerifyOptions", "credential_from_jwt_payload", "verify_bytes"]
