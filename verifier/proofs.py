"""The ``proof`` check: Data Integrity proofs and VC-JWT, key resolution, issuer binding.

Policy decisions (documented in the README):

- Proof sets: every proof whose suite Badgesmith implements must verify; a
  proof of an unsupported type next to at least one valid proof is a warning,
  and a credential whose only proofs are unsupported fails with
  ``PROOF_TYPE_UNSUPPORTED`` (distinct from a forged signature).
- The key must belong to the issuer: a did:key whose DID is the issuer id, or a
  DID document (did:web) of the issuer listing it under ``assertionMethod``.
- Keys that nothing publishes — 1EdTech's ``https://issuer#z6Mk…`` fragment
  convention, or a JWT's inline ``jwk`` for an https issuer — prove only that
  *someone* signed: ``KEY_UNBOUND`` fails unless the caller accepts such keys,
  which turns it into a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from errors import BadgesmithError, Code, CredentialError
from keys.data_integrity import EDDSA_RDFC_2022, Suite, check_key_type, suite_of, verify_proof
from keys.did import VerificationMethod, find_listed_key, key_from_fragment, resolve_verification_method
from keys.rdfc import Limits
from keys.vc_jwt import verify_jwt

MAX_PROOFS = 16  # proof sets and chains in circulation carry two or three

Fetch = Callable[[str], bytes]


@dataclass(slots=True)
class ProofOutcome:
    """What the proof check found: the format name, failures and warnings."""

    format: str | None = None
    errors: list[BadgesmithError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    verification_methods: list[str] = field(default_factory=list)
    credential: dict[str, Any] | None = None  # a VC-JWT's credential as its signature covers it (nbf/exp folded in)


def issuer_id(credential: dict[str, Any]) -> str | None:
    """The issuer's id, whether ``issuer`` is a string or a Profile object."""
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def _unbound(vm_id: str, issuer: str | None, how: str) -> CredentialError:
    return CredentialError(
        Code.KEY_UNBOUND,
        f"The signing key comes from {how}; nothing published by {issuer or 'the issuer'} "
        "confirms that it is the issuer's key, so anyone could have made this signature.",
        verification_method=vm_id[:200])


def _bind_inline_key(key: Any, issuer: str | None, fetch: Fetch, resolver: KeyResolver,
                     outcome: ProofOutcome) -> None:
    """A JWT's inline ``jwk`` is the issuer's when its did:key is that key (checked by ``verify_jwt``) or
    its did:web document lists that key for assertionMethod; otherwise ``KEY_UNBOUND`` (policy)."""
    issuer = issuer or ""
    if issuer.startswith("did:key:"):
        return
    if issuer.startswith("did:web:"):
        vm = find_listed_key(issuer.split("#", 1)[0], key, fetch=fetch)
        if vm is not None:
            outcome.verification_methods.append(vm.id)
            return
        resolver.unbound(CredentialError(
            Code.KEY_UNBOUND,
            f"The JWT carries its key inline (jwk), and the DID document of {issuer[:120]} does not list that "
            "key for assertionMethod, so nothing the issuer published confirms it: anyone could have made "
            "this signature.", verification_method="jwk"))
        return
    resolver.unbound(CredentialError(
        Code.KEY_UNBOUND,
        f"The JWT carries its key inline (jwk), and its issuer {issuer[:120] or '(none)'} is not a DID that "
        "publishes keys (did:web or did:key), so nothing the issuer published confirms it: anyone could "
        "have made this signature.", verification_method="jwk"))


def _not_issuers(vm: VerificationMethod, issuer: str | None) -> CredentialError:
    return CredentialError(
        Code.KEY_NOT_ISSUERS,
        f"The credential was signed with a key of {vm.controller!s:.120}, not of its issuer "
        f"{issuer or '(none)'}.", verification_method=vm.id[:200])


def _bind(vm: VerificationMethod, issuer: str | None) -> None:
    if issuer is None or vm.controller != issuer:
        raise _not_issuers(vm, issuer)


class KeyResolver:
    """Resolves verification methods to keys bound to the issuer, under the key policy."""

    def __init__(self, *, fetch: Fetch, accept_unbound_keys: bool, outcome: ProofOutcome) -> None:
        self._fetch = fetch
        self._accept_unbound = accept_unbound_keys
        self._outcome = outcome

    def unbound(self, error: CredentialError) -> None:
        if not self._accept_unbound:
            raise error
        self._outcome.warnings.append(error.message)

    def resolve(self, vm_id: Any, issuer: str | None, suite: Suite = EDDSA_RDFC_2022) -> Any:
        """The public key for ``vm_id``, checked to belong to ``issuer`` and to suit ``suite``."""
        public_key, vm = self.resolve_any(vm_id, issuer, suite)
        if vm is not None:
            _bind(vm, issuer)
        return public_key

    def resolve_any(self, vm_id: Any, issuer: str | None,
                    suite: Suite = EDDSA_RDFC_2022) -> tuple[Any, VerificationMethod | None]:
        """The public key for ``vm_id`` and its DID verification method (None: bound by URL, not a DID).

        The key must be of the type ``suite`` verifies with (``KEY_INVALID`` otherwise).

        The caller decides whether a DID key of someone other than the issuer
        is acceptable (a second signer in a proof set or chain).
        """
        if not isinstance(vm_id, str) or not vm_id:
            raise CredentialError(Code.PROOF_MALFORMED, "The proof names no verificationMethod.")
        self._outcome.verification_methods.append(vm_id)
        if vm_id.startswith("https://") and "#" in vm_id:
            public_key = key_from_fragment(vm_id)
            if public_key is not None:
                if issuer != vm_id.split("#", 1)[0]:
                    raise CredentialError(
                        Code.KEY_NOT_ISSUERS,
                        f"The verification method {vm_id[:120]} is not under the issuer's id "
                        f"{issuer or '(none)'}.")
                self.unbound(_unbound(vm_id, issuer, "the verification method URL itself (#z6Mk…)"))
                return public_key, None
        vm = resolve_verification_method(vm_id, fetch=self._fetch)
        check_key_type(suite, vm.public_key, vm_id)
        return vm.public_key, vm


def check_data_integrity(credential: dict[str, Any], *, loader: Any, fetch: Fetch,
                         accept_unbound_keys: bool, limits: Limits,
                         canonical_document: str | None = None) -> ProofOutcome:
    """Verify every embedded proof of ``credential`` (object or array)."""
    outcome = ProofOutcome()
    proofs = credential.get("proof")
    if proofs is None:
        outcome.errors.append(CredentialError(
            Code.PROOF_MISSING, "The credential carries no proof, so nobody can tell who made it."))
        return outcome
    proofs = proofs if isinstance(proofs, list) else [proofs]
    if len(proofs) > MAX_PROOFS:
        # Each proof is canonicalized with the proofs it chains to: hundreds would take minutes.
        outcome.errors.append(CredentialError(
            Code.PROOF_MALFORMED, f"The credential carries {len(proofs)} proofs; at most {MAX_PROOFS} are checked."))
        return outcome
    resolver = KeyResolver(fetch=fetch, accept_unbound_keys=accept_unbound_keys, outcome=outcome)
    issuer = issuer_id(credential)
    formats, unsupported, verified = [], [], 0
    others: list[VerificationMethod] = []  # verified proofs by keys that are not the issuer's
    for proof in proofs:
        if not isinstance(proof, dict):
            outcome.errors.append(CredentialError(Code.PROOF_MALFORMED, "A proof is not an object."))
            continue
        suite = suite_of(proof)
        if suite is None:
            unsupported.append(str(proof.get("cryptosuite") or proof.get("type"))[:60])
            continue
        formats.append(suite.name)
        try:
            if proof.get("proofPurpose") != "assertionMethod":
                raise CredentialError(
                    Code.PROOF_PURPOSE_INVALID,
                    f"The proof's purpose is {proof.get('proofPurpose')!s:.40}, not assertionMethod.")
            previous = previous_proofs(proof, proofs)
            public_key, vm = resolver.resolve_any(proof.get("verificationMethod"), issuer, suite)
            if not verify_proof(credential, proof, public_key, loader=loader, limits=limits,
                                canonical_document=canonical_document, previous=previous):
                raise CredentialError(
                    Code.PROOF_INVALID,
                    "The signature does not match the credential: it was changed after signing, "
                    "or signed with another key.")
            if suite.legacy:
                outcome.warnings.append(f"The proof uses the draft suite name {suite.cryptosuite}.")
            verified += 1
            if vm is not None and vm.controller != issuer:
                others.append(vm)
        except BadgesmithError as error:
            outcome.errors.append(error)
    if others and not outcome.errors:
        # Proof sets and chains may carry other signers (a witness, a notary), but
        # at least one proof must be the issuer's own.
        if len(others) == verified:
            outcome.errors.append(_not_issuers(others[0], issuer))
        else:
            outcome.warnings.append("Also signed by " + ", ".join(
                dict.fromkeys(str(vm.controller)[:120] for vm in others)) + ".")
    outcome.format = "+".join(dict.fromkeys(formats)) or None
    if unsupported:
        text = ", ".join(unsupported)
        if verified and not outcome.errors:
            outcome.warnings.append(f"A proof of unsupported type {text} was not checked.")
        elif not verified and not outcome.errors:
            outcome.format = f"unsupported:{unsupported[0]}"
            outcome.errors.append(CredentialError(
                Code.PROOF_TYPE_UNSUPPORTED,
                f"The proof type {text} is not supported by Badgesmith, so the signature "
                "cannot be checked (this does not mean it is forged)."))
    return outcome


def previous_proofs(proof: dict[str, Any], proofs: list[Any]) -> list[dict[str, Any]]:
    """The proofs that ``proof`` names in ``previousProof`` (DI 1.0 proof chains), all of which must exist."""
    reference = proof.get("previousProof")
    if reference is None:
        return []
    ids = reference if isinstance(reference, list) else [reference]
    if not ids or not all(isinstance(i, str) and i for i in ids):
        raise CredentialError(Code.PROOF_MALFORMED, "previousProof must be a proof id or a list of proof ids.")
    found = [p for p in proofs if isinstance(p, dict) and p is not proof and p.get("id") in ids]
    missing = set(ids) - {p.get("id") for p in found}
    if missing:
        raise CredentialError(Code.PREVIOUS_PROOF_MISSING,
                              f"previousProof names {sorted(missing)[0][:120]}, which is not among the "
                              "credential's proofs.")
    return found


def check_jwt(token: str, credential: dict[str, Any], *, fetch: Fetch,
              accept_unbound_keys: bool, require_nbf: bool = True) -> ProofOutcome:
    """Verify a VC-JWT whose payload has already been decoded into ``credential``.

    ``require_nbf``: OB 3.0 §8.2 requires the ``nbf`` claim of an Open Badge; other VC-JWTs
    (a status list, say) may carry ``validFrom`` alone.
    """
    outcome = ProofOutcome(format="vc-jwt")
    resolver = KeyResolver(fetch=fetch, accept_unbound_keys=accept_unbound_keys, outcome=outcome)
    issuer = issuer_id(credential)
    try:
        result = verify_jwt(token, resolve=lambda kid: resolve_verification_method(kid, fetch=fetch))
        outcome.warnings.extend(result.warnings)
        outcome.credential = result.credential
        if result.verification_method is not None:
            outcome.verification_methods.append(result.verification_method.id)
            _bind(result.verification_method, issuer)
        elif result.inline_key:
            _bind_inline_key(result.key, issuer, fetch, resolver, outcome)
        if "nbf" in result.missing_claims and require_nbf:
            raise CredentialError(
                Code.JWT_CLAIMS_MISMATCH,
                "The JWT has no nbf claim, which Open Badges 3.0 requires (§8.2).")
        others = [c for c in result.missing_claims if c != "nbf" or not require_nbf]
        if others:
            # Recommended rather than fatal: the credential itself still carries the values.
            outcome.warnings.append(f"The JWT lacks the {', '.join(others)} claim(s) that OB 3.0 asks for.")
    except BadgesmithError as error:
        outcome.errors.append(error)
    return outcome


__all__ = ["KeyResolver", "MAX_PROOFS", "ProofOutcome", "check_data_integrity", "check_jwt", "issuer_id", "previous_proofs"]
