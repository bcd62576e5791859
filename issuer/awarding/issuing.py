"""The issuing organisation at run time: settings + signing key + registry, and what it does.

``Issuer.open(home)`` is what every issuing command and the web app start
from. Issuing one credential is: build → sign (inside the registry
transaction that allocates its random status index) → self-check with the
verifier → store; files are written afterwards (``issuer.awarding.outputs``).
"""

from __future__ import annotations

import time
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from errors import BadgesmithError, Code, Conflict, InputError, NotFound
from issuer.awarding.roster import RosterRow
from issuer.awarding.signing import AwardSigner, SignerSpec, award_terms, issuer_profile
from issuer.badge.achievement import Achievement, load_achievement
from issuer.badge.credential import new_credential_id
from issuer.badge.recipient import identity_object, lookup_key, new_salt, normalise_email
from issuer.badge.sign import sign_credential
from issuer.badge.status import build_status_list_credential
from issuer.instance.jwt_keys import jwt_signing_key, load_jwt_keys
from issuer.instance.settings import AssociationSettings, load_settings, Settings
from issuer.instance.urls import achievement_url, credential_url, image_url, issuer_did, verification_method_id
from issuer.store.models import CredentialRecord, Issued, NewCredential, StatusListRecord
from issuer.store.registry import Registry
from keys.did import did_web_document
from keys.ed25519 import KeyPair, PublicKey
from keys.jws_keys import SigningKey
from keys.keystore import load_key
from schemas.loader import offline_loader

STATUS_URL_TEMPLATE = "{base}/status/{{purpose}}/{{seq}}"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True, slots=True)
class IssueRequest:
    """One award: who gets which achievement, when, with what credits and evidence."""

    email: str
    name: str | None = None
    did: str | None = None
    credits: float | None = None
    date: date | None = None
    evidence: str | None = None
    organization: str | None = None
    format: str | None = None
    # Whole OB Evidence objects beside the ``evidence`` URL (a renewal names the
    # previous certification and the CEUs it counted).
    evidence_items: tuple[dict[str, Any], ...] = ()
    session: str | None = None  # a repeatable achievement's session (else its date tells awards apart)
    renews: str | None = None  # the certification this one renews: its cycle is a new award
    # The first day of validity when it is not the award date: a renewal awarded today whose cycle starts
    # where the previous one ends (validFrom; the award date is the credential's awardedDate).
    starts: date | None = None

    @classmethod
    def from_row(cls, row: RosterRow, fmt: str | None = None) -> IssueRequest:
        return cls(email=row.email, name=row.name, did=row.did, credits=row.credits, date=row.date,
                   evidence=row.evidence, organization=row.organization, format=fmt, session=row.session)


_RENEWS = "renews:"


def renewals_of(records: Iterable[CredentialRecord]) -> dict[str, CredentialRecord]:
    """Among ``records``, the renewal of each certification that was renewed, by the renewed one's id
    (revoked renewals left out): where pages and progress find a certification's next cycle."""
    return {r.award_key[len(_RENEWS):]: r for r in records
            if r.award_key and r.award_key.startswith(_RENEWS) and r.status != "revoked"}


def award_key(definition: dict[str, Any], request: IssueRequest, today: date) -> str:
    """What makes an award one award (README "One award per person").

    ``once`` by default: a person holds an achievement once, whatever the date
    or credits. A renewal is a new cycle (``renews:<previous id>``). An
    achievement declared ``repeatable`` is held once per session, or per date.
    """
    if request.renews:
        return f"{_RENEWS}{request.renews}"
    if definition.get("repeatable"):
        return f"session:{request.session}" if request.session else f"date:{(request.date or today).isoformat()}"
    return "once"


@dataclass(frozen=True, slots=True)
class _Pending:
    """An award prepared for signing, waiting for its status slots."""

    definition: dict[str, Any]
    request: IssueRequest
    credential_id: str
    salt: str
    fmt: str

    def sign(self, signer: AwardSigner, entries: Iterable[Any], now: datetime) -> str:
        return self.sign_with(signer, [entry.to_dict() for entry in entries], now)

    def sign_with(self, signer: AwardSigner, status: list[dict[str, Any]], now: datetime) -> str:
        return signer.sign(self.definition, self.request, credential_id=self.credential_id, salt=self.salt,
                           status=status, fmt=self.fmt, now=now)


class SigningShare:
    """The share of each roster batch that the worker processes sign, beside writing the previous batch's
    files, while this process signs the rest and then stores the batch; adjusted batch by batch.

    What balances the two cores depends on the disk: creating a file costs the kernel 20-100 µs on the
    project's VM, but 300-700 µs for minutes after many files were deleted, when the workers' file writing
    alone outlasts everything this process does. So the share starts at 0.6 (which balanced the idle
    machine with a quick disk: 0.9-1.0 ms of CPU a row on each side) and moves by 0.05: down when this
    process waited for the workers' share for more than a quarter of the time it signed its own (their
    backlog of files delays it), up when it hardly waited. The first batches the workers sign are not
    counted: each worker's first credential goes through the whole verifier with cold caches.
    """

    START, STEP, LEAST, MOST, WARM_UP = 0.6, 0.05, 0.1, 0.85, 2

    def __init__(self, value: float = START) -> None:
        self.value = value
        self._seen = 0

    def update(self, waited: float, signing: float) -> None:
        """After a batch: ``waited`` seconds for the workers' share, ``signing`` seconds signing our own."""
        self._seen += 1
        if self._seen <= self.WARM_UP:
            return
        if waited > 0.25 * signing:
            self.value = max(self.LEAST, self.value - self.STEP)
        elif waited < 0.05 * signing:
            self.value = min(self.MOST, self.value + self.STEP)


def _sign_shared(signer: AwardSigner, work: list[tuple[_Pending, list[dict[str, Any]]]], now: datetime,
                 pool: Executor | None, meanwhile: Callable[[], None] | None = None,
                 share: SigningShare | None = None) -> list[str]:
    """The signed, self-checked texts of ``work`` in order: a share signed in ``pool`` (two chunks, one
    per worker), the rest here meanwhile. A chunk a worker cannot sign (its key needs a passphrase)
    is signed here; an error a worker met (SELF_CHECK_FAILED…) is raised here, and the batch rolls back.
    ``meanwhile`` runs once the chunks are handed out (or at once, when there are none); ``share`` is the
    run's ``SigningShare``, updated with how long this batch waited for the workers."""
    share = share or SigningShare()
    remote = int(len(work) * share.value) if pool is not None else 0
    if remote < 2 or any(task.fmt != "di" for task, _ in work[:remote]):
        if meanwhile is not None:
            meanwhile()
        texts = [task.sign_with(signer, status, now) for task, status in work]
        if pool is not None:
            share.update(0.0, 1.0)  # none waited for: try a share again next batch
        return texts
    spec = SignerSpec.of(signer)
    half = remote // 2
    chunks = [work[:half], work[half:remote]]
    futures = [pool.submit(sign_elsewhere, spec, chunk, now) for chunk in chunks]
    if meanwhile is not None:
        meanwhile()
    started = time.perf_counter()
    texts = [task.sign_with(signer, status, now) for task, status in work[remote:]]
    signing, waited = time.perf_counter() - started, 0.0
    signed: list[str] = []
    for chunk, future in zip(chunks, futures):
        started = time.perf_counter()
        outcome = future.result()  # re-raises a worker's error (SELF_CHECK_FAILED…): the batch rolls back
        waited += time.perf_counter() - started
        if outcome is None:
            outcome = [task.sign_with(signer, status, now) for task, status in chunk]
        signed.extend(outcome)
    share.update(waited, signing)
    return signed + texts


def sign_elsewhere(spec: SignerSpec, work: list[tuple[_Pending, list[dict[str, Any]]]],
                   now: datetime) -> list[str] | None:
    """In a worker process: ``work`` built, signed and self-checked by a fresh signer (its first
    credential of each shape through the whole verifier); None when the key cannot be read here.
    An error travels back through the future (Badgesmith errors pickle with their code and details)."""
    signer = spec.signer()
    if signer is None:
        return None
    return [task.sign_with(signer, status, now) for task, status in work]


class Issuer:
    """One instance's issuing side. Collaborators are injected; ``open`` builds the defaults."""

    def __init__(self, *, settings: Settings, key: KeyPair, registry: Registry,
                 now: Callable[[], datetime] = _utcnow, loader: Any = None,
                 new_id: Callable[[], str] = new_credential_id, actor: str = "badgesmith",
                 jwt_keys: dict[str, SigningKey] | None = None) -> None:
        self.settings, self.key, self.registry = settings, key, registry
        self.jwt_keys = jwt_keys or {}  # RS256/ES256 keys ([keys] jwt), published beside the Ed25519 ones
        self.now, self.new_id, self.actor = now, new_id, actor
        self.loader = loader or offline_loader()
        self.did = issuer_did(settings, key.public_key.to_multikey())
        self.verification_method = verification_method_id(settings, key.public_key.to_multikey())
        self._refuse_a_key_of_another_issuer()
        link = settings.association
        record = registry.ensure_issuer(self.did, name=settings.name, url=settings.url, email=settings.email,
                                       profile=self.profile(), brand=public_brand(settings),
                                       kind="association" if link and link.role == "association" else "issuer",
                                       association_did=link.did if link and link.role == "division" else None)
        self.issuer_id = record.id
        if not any(k.key_id == settings.key_id for k in registry.list_keys(self.issuer_id)):
            registry.add_key(self.issuer_id, settings.key_id, key.public_key.to_multikey(),
                             file=f"{settings.key_id}.pem", now=now())

    def _refuse_a_key_of_another_issuer(self) -> None:
        """Divisions share one database: a key recorded there for another issuer (another division's, or
        the association's) never signs for this one, whatever the settings say (README "Who can issue").

        With did:key the DID is the key, so a copied key would claim the other issuer's own row: an
        association's row for a division, or a division's row from another site (base URL).
        """
        role = self.settings.association.role if self.settings.association else None
        for holder in self.registry.key_holders(self.key.public_key.to_multikey()):
            if (holder.did != self.did or holder.is_association != (role == "association")
                    or ((holder.association_id is not None or role == "division")
                        and holder.url != self.settings.url)):
                raise Conflict(Code.KEY_OF_ANOTHER_ISSUER, f"The signing key {self.settings.key_id!r} belongs to "
                               f"{holder.name} ({holder.url}), not to {self.settings.name}: each division signs "
                               "only with its own key. Restore this instance's own key in keys/.",
                               issuer=holder.did)

    @classmethod
    def open(cls, home: Path, *, passphrase: str | None = None, database_url: str | None = None,
             migrate: bool = True, **options: Any) -> Issuer:
        """The issuer of the instance in ``home`` (its key, its registry, migrated if needed)."""
        settings = load_settings(home)
        key = load_key(settings.keys_dir, settings.key_id, passphrase=passphrase)
        options.setdefault("jwt_keys", load_jwt_keys(settings, passphrase=passphrase))
        registry = Registry.from_url(database_url or settings.database_url)
        if migrate:
            registry.migrate()
        return cls(settings=settings, key=key, registry=registry, **options)

    # -- published documents ---------------------------------------------------------------

    def profile(self) -> dict[str, Any]:
        """The issuer's OB 3.0 Profile (its id is the issuer DID; ``url`` its web site)."""
        return issuer_profile(self.settings, self.did)

    def public_keys(self) -> list[tuple[str, PublicKey]]:
        """Every Ed25519 key this issuer ever signed with (current and retired), by key id."""
        return [(k.key_id, PublicKey.from_multikey(k.public_multikey))
                for k in self.registry.list_keys(self.issuer_id)]

    def own_issuers(self) -> dict[str, str]:
        """This issuer's ids → its name: the current DID and, for did:key, the DID of every earlier key."""
        ids = [self.did]
        if self.settings.did_method == "key":
            ids += [issuer_did(self.settings, key.to_multikey()) for _, key in self.public_keys()]
        return {issuer_id: self.settings.name for issuer_id in ids}

    def did_document(self) -> dict[str, Any] | None:
        """The did:web DID document listing every key (rotation keeps old keys), or None for did:key."""
        if self.settings.did_method != "web":
            return None
        return did_web_document(self.did, [*self.public_keys(),
                                           *((key_id, key.public_key) for key_id, key in self.jwt_keys.items())])

    # -- achievements ----------------------------------------------------------------------

    def add_achievements(self, paths: Sequence[Path], *, replace: bool = False) -> list[Achievement]:
        """``achievement add FILE…``: every file is read and checked, and no id may exist already (unless
        ``replace``), before any is stored. Replacing never changes credentials already issued."""
        loaded = [load_achievement(path) for path in paths]
        ids = [a.id for a in loaded]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise Conflict(Code.ACHIEVEMENT_EXISTS, f"Several of these files define the achievement "
                           f"{repeated[0]!r}: add one of them.", id=repeated[0])
        if not replace:
            existing = [i for i in ids if self.registry.get_achievement(self.issuer_id, i) is not None]
            if existing:
                raise Conflict(Code.ACHIEVEMENT_EXISTS, f"The achievement {existing[0]!r} already exists"
                               + (f" (and {len(existing) - 1} more)" if len(existing) > 1 else "")
                               + ": nothing was added. Pass --replace to replace its definition (credentials "
                               "already issued keep theirs), or give the new one another id.", ids=existing)
        return [self._store_achievement(achievement) for achievement in loaded]

    def add_achievement(self, path: Path, *, replace: bool = False) -> Achievement:
        """Load an achievement TOML, store its definition and its image (or rendered badge art);
        ACHIEVEMENT_EXISTS when its id is taken, unless ``replace``."""
        return self.add_achievements([path], replace=replace)[0]

    def _store_achievement(self, achievement: Achievement) -> Achievement:
        from issuer.awarding.outputs import store_achievement_files

        images = store_achievement_files(self.settings, achievement)
        definition = {
            "ob": achievement.to_ob(achievement_url(self.settings, achievement.id),
                                    image_url(self.settings, achievement.id)),
            "valid_for": achievement.valid_for,
            "renewal": None if achievement.renewal is None else _plain(achievement.renewal),
            "repeatable": achievement.repeatable,
            "images": images,
        }
        previous = self.registry.get_achievement(self.issuer_id, achievement.id)
        if previous is not None and previous.definition.get("endorsements"):
            definition["endorsements"] = previous.definition["endorsements"]  # `endorse` stored them; keep them
        self.registry.put_achievement(self.issuer_id, achievement.id, definition)
        return achievement

    def achievement(self, slug: str) -> dict[str, Any]:
        """The stored definition of ``slug`` (``ob``, ``valid_for``, ``images``…)."""
        record = self.registry.get_achievement(self.issuer_id, slug)
        if record is None:
            raise self._no_achievement(slug)
        return record.definition

    def _no_achievement(self, slug: str) -> NotFound:
        # A mistyped or shortened slug ("storytime") is the usual cause: name the likely ones.
        import difflib

        slugs = [a.slug for a in self.registry.list_achievements(self.issuer_id)]
        close = [s for s in slugs if s.startswith(slug)] if slug else []
        close += [s for s in difflib.get_close_matches(slug, slugs, n=3, cutoff=0.5) if s not in close]
        if close:
            named = " or ".join(repr(s) for s in close[:3])
            return NotFound(Code.ACHIEVEMENT_NOT_FOUND, f"There is no achievement {slug!r}; did you mean {named}? "
                            "(`badgesmith achievement list` shows them all.)", suggestions=close[:3])
        return NotFound(Code.ACHIEVEMENT_NOT_FOUND,
                        f"There is no achievement {slug!r}: add it with `badgesmith achievement add FILE.toml`.")

    # -- issuing -------------------------------------------------------------------------------

    def signer(self) -> AwardSigner:
        """What signing an award needs, without the database (for this process or a worker)."""
        jwt_key = jwt_signing_key(self.settings, self.jwt_keys)
        return AwardSigner(self.settings, self.key, self.did, self.verification_method, self.did_document(),
                           self.loader, jwt_key=None if jwt_key is None else (f"{self.did}#{jwt_key[0]}", jwt_key[1]))

    def build(self, slug: str, request: IssueRequest, *, credential_id: str, status: Iterable[dict],
              salt: str, definition: dict[str, Any] | None = None) -> dict[str, Any]:
        """The unsigned credential for ``request``."""
        return self.signer().build(definition or self.achievement(slug), request, credential_id=credential_id,
                                   status=status, salt=salt, now=self.now())

    def issue(self, slug: str, request: IssueRequest, *, suspension: bool = False,
              definition: dict[str, Any] | None = None) -> Issued:
        """Issue one credential (idempotent per person, achievement and date); returns the stored record.

        ``suspension`` adds a second status entry so the credential can be
        suspended and reinstated; the official OB 3.0 schemas allow only one
        ``credentialStatus``, so it is off unless asked for (README).
        ``definition`` is the achievement's stored definition when the caller
        already holds it (a roster run reads it once, not once per row).
        """
        definition = definition or self.achievement(slug)
        new, task = self._prepare(slug, request, suspension=suspension, definition=definition)
        signer = self.signer()

        def sign(entries) -> str:
            return task.sign(signer, entries, self.now())

        return self.registry.issue(self.issuer_id, new, sign,
                                   status_url=STATUS_URL_TEMPLATE.format(base=self.settings.url),
                                   actor=self.actor, now=self.now())

    def issue_many(self, slug: str, requests: Sequence[IssueRequest], *, suspension: bool = False,
                   definition: dict[str, Any] | None = None, pool: Executor | None = None,
                   meanwhile: Callable[[], None] | None = None, share: SigningShare | None = None) -> list[Issued]:
        """``issue`` for a batch of rows in one registry transaction (one commit): a roster's pace.

        Same idempotency as ``issue``; every credential is still self-checked. With ``pool`` (a roster's
        worker processes), a share of the batch is built, signed and self-checked there while this
        process signs the rest (``_sign_shared``); ``meanwhile`` is called once that share is handed
        out (a roster then hands out the previous batch's files, to queue behind it); ``share`` is how
        much of the batch the pool signs (``SigningShare``, adjusted from batch to batch).
        """
        definition = definition or self.achievement(slug)
        prepared = [self._prepare(slug, r, suspension=suspension, definition=definition) for r in requests]
        tasks = {new.id: task for new, task in prepared}
        now = self.now()
        signer = self.signer()

        def sign_many(batch) -> list[str]:
            work = [(tasks[new.id], [entry.to_dict() for entry in entries]) for new, entries in batch]
            return _sign_shared(signer, work, now, pool, meanwhile, share)

        return self.registry.issue_batch(self.issuer_id, [new for new, _ in prepared], sign_many,
                                         status_url=STATUS_URL_TEMPLATE.format(base=self.settings.url),
                                         actor=self.actor, now=now)

    def reissue(self, previous: CredentialRecord, request: IssueRequest, *,
                definition: dict[str, Any] | None = None) -> Issued:
        """A correction: a new credential for the same award with ``request``'s data; ``previous`` is
        revoked with the reason "superseded by <new id>" in the same transaction."""
        definition = definition or self.achievement(previous.achievement)
        new, task = self._prepare(previous.achievement, request, suspension=previous.suspension_list_id is not None,
                                  definition=definition)
        signer = self.signer()
        return self.registry.supersede(self.issuer_id, previous.id, new,
                                       lambda entries: task.sign(signer, entries, self.now()),
                                       status_url=STATUS_URL_TEMPLATE.format(base=self.settings.url),
                                       actor=self.actor, now=self.now())

    def _prepare(self, slug: str, request: IssueRequest, *, suspension: bool,
                 definition: dict[str, Any]) -> tuple[NewCredential, _Pending]:
        """The registry row to store, and what signing it takes once its status slots are known."""
        email = normalise_email(request.email)
        request = IssueRequest(**{**_plain(request), "email": email})
        fmt = request.format or self.settings.default_format
        credential_id = self.new_id()
        salt = new_salt()
        # Checked before the transaction opens: a bad amount never reserves a status index.
        terms = award_terms(definition, request, self.now().date())
        new = NewCredential(
            id=credential_id, achievement=slug,
            recipient_hash=identity_object(email, salt=salt)["identityHash"],
            lookup_key=lookup_key(email, self.settings.lookup_secret), issued_on=terms.awarded,
            valid_from=terms.valid_from, format=fmt,
            recipient_name=request.name, recipient_email=email, recipient_did=request.did,
            organization=request.organization,
            credits=terms.credits, valid_until=terms.valid_until, suspension=suspension,
            award_key=award_key(definition, request, terms.awarded))
        return new, _Pending(definition, request, credential_id, salt, fmt)

    # -- status --------------------------------------------------------------------------------

    def set_status(self, credential_id: str, action: str, *, reason: str | None = None) -> CredentialRecord:
        """Revoke, suspend or reinstate ``credential_id`` (the event log records who and why)."""
        record = self.registry.get_credential(_normalise_id(credential_id), issuer_id=self.issuer_id)
        if record is None:
            raise NotFound(Code.CREDENTIAL_NOT_FOUND, f"There is no credential {credential_id} in this instance.")
        return self.registry.set_status(record.id, action, actor=self.actor, reason=reason,
                                        issuer_id=self.issuer_id, now=self.now())

    def status_list_credential(self, status_list: StatusListRecord) -> dict[str, Any]:
        """The signed BitstringStatusListCredential for ``status_list`` as it is now."""
        # The list carries only the VC 2.0 context, which has no Profile terms:
        # the issuer is named by its id.
        unsigned = build_status_list_credential(status_list.url, self.did, status_list.purpose,
                                                status_list.bits, status_list.updated_at)
        return sign_credential(unsigned, self.key, fmt="di", loader=self.loader,
                               created=status_list.updated_at, verification_method=self.verification_method)

    def credential_page(self, credential_id: str) -> str:
        """The public badge page URL of a credential."""
        return credential_url(self.settings, credential_id)

    def close(self) -> None:
        self.registry.dispose()


def public_brand(settings: Settings) -> dict[str, Any]:
    """What an association's pages show of this issuer: its brand's name, colour, contact and logo URL."""
    brand = settings.public_brand
    return {"name": brand.name, "primary_color": brand.primary_color, "contact_email": brand.contact_email,
            "logo": f"{settings.url}/brand/logo" if brand.logo is not None else None}


def create_instance(home: Path, *, name: str, url: str, email: str | None = None, did_web: str | None = None,
                    database_url: str | None = None, jwt_alg: str = "EdDSA",
                    passphrase: str | None = None, association: AssociationSettings | None = None,
                    lookup_secret: bytes | None = None, open_database: str | None = None) -> Issuer:
    """``badgesmith init``: the instance folder, a new Ed25519 key (and an RSA/P-256 JWT key for
    ``jwt_alg`` RS256/ES256, did:web only), the migrated database; returns the open issuer.
    ``association`` and ``lookup_secret`` make it an association or one of its divisions
    (``issuer.association.setup``). ``open_database`` is a database to use instead of the one
    written to badgesmith.toml (``$DATABASE_URL``, which is never written there)."""
    from issuer.instance.folder import init_instance
    from issuer.instance.jwt_keys import add_jwt_key
    from keys.keystore import save_key

    if jwt_alg != "EdDSA" and not did_web:
        raise InputError(Code.USAGE, f"--jwt-alg {jwt_alg} needs --did-web: a did:key issuer names only its Ed25519 "
                         "key, and the RSA/P-256 key is published in the did:web DID document.")
    settings = init_instance(home, name=name, url=url, email=email, did_web=did_web, database_url=database_url,
                             association=association, lookup_secret=lookup_secret)
    save_key(settings.keys_dir, settings.key_id, KeyPair.generate(), passphrase=passphrase)
    if jwt_alg != "EdDSA":
        add_jwt_key(settings, jwt_alg, passphrase=passphrase, make_default=True)
    return Issuer.open(settings.home, passphrase=passphrase, database_url=open_database)


def _normalise_id(credential_id: str) -> str:
    text = credential_id.strip()
    return text if text.startswith("urn:uuid:") else f"urn:uuid:{text}"


def _plain(value: Any) -> dict[str, Any]:
    return {name: getattr(value, name) for name in value.__slots__}


__all__ = ["IssueRequest", "Issuer", "STATUS_URL_TEMPLATE", "SigningShare", "award_key", "public_brand",
           "renewals_of"]
