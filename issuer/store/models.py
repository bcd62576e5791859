"""The registry's tables (SQLAlchemy 2 declarative models).

One schema for SQLite and PostgreSQL, so only portable types are used.
Several instances may share one PostgreSQL database: every table below
``issuers`` carries ``issuer_id``. Private key material is never stored here;
``keys`` holds public keys and a reference to the keystore file.

``issuer/store/migrations/versions`` must describe exactly these tables (a test
compares them with Alembic's autogenerate).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names keep migrations identical on both databases.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY, so BIGINT ids fall back to it there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC.

    SQLite drops the offset, so values are normalised to UTC on the way in and
    given UTC back on the way out: callers always see aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the registry; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The default clock for row timestamps (callers may pass their own ``now``)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class IssuerRow(Base):
    __tablename__ = "issuers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    did: Mapped[str] = mapped_column(String(500), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    url: Mapped[str] = mapped_column(String(2000))
    email: Mapped[str | None] = mapped_column(String(320))
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Associations (issue 18, issuer/association/): an association is an issuer of its own (its key signs
    # association transcripts and pathway awards) with kind "association"; a division names it here.
    kind: Mapped[str] = mapped_column(String(20), default="issuer", server_default="issuer")
    association_id: Mapped[int | None] = mapped_column(ForeignKey("issuers.id"), index=True)
    # What the public sees of a division (name, colour, contact, logo URL) where the association shows it
    # (catalog, learner record); the brand lives in each division's badgesmith.toml, copied here on open.
    brand: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class KeyRow(Base):
    __tablename__ = "keys"
    __table_args__ = (UniqueConstraint("issuer_id", "key_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(1000))  # the verificationMethod id
    public_multikey: Mapped[str] = mapped_column(String(200))
    file: Mapped[str | None] = mapped_column(String(1000))  # keystore reference, never the key
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AchievementRow(Base):
    __tablename__ = "achievements"
    __table_args__ = (UniqueConstraint("issuer_id", "slug"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    slug: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StatusListRow(Base):
    __tablename__ = "status_lists"
    # seq numbers the lists of one issuer and purpose; the unique key makes two
    # servers that both open "the next list" at once end up with one list.
    __table_args__ = (UniqueConstraint("issuer_id", "purpose", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    seq: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    is_full: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StatusAllocationRow(Base):
    """One taken index. The composite primary key is what makes allocation safe
    under concurrency: a second insert of the same (list, index) cannot succeed."""

    __tablename__ = "status_allocations"

    status_list_id: Mapped[int] = mapped_column(ForeignKey("status_lists.id"), primary_key=True)
    status_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # No foreign key: the slot is reserved before the credential row exists
    # (the credential is signed with the slot in it), in the same transaction.
    credential_id: Mapped[str] = mapped_column(String(200), index=True)


class SignedStatusListRow(Base):
    """A status list as its own issuer last signed it (the text it publishes), at list ``version``.

    Only the issuer's key can sign its lists, so the association and the other divisions sharing the
    database serve this copy inside their folders (``issuer.awarding.documents``), and only while
    ``version`` is the list's current one: an older copy would hide a later revocation.
    """

    __tablename__ = "signed_status_lists"

    status_list_id: Mapped[int] = mapped_column(ForeignKey("status_lists.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    credential: Mapped[str] = mapped_column(Text)


class CredentialRow(Base):
    __tablename__ = "credentials"
    __table_args__ = (
        # One award per person: the award key is "once", "renews:<previous id>" (a certification's
        # cycle) or "date:…"/"session:…" (a repeatable achievement). A superseded credential gives its
        # key up (NULL never collides), so a correction can take it in the same transaction.
        UniqueConstraint("issuer_id", "achievement", "lookup_key", "award_key"),
        ForeignKeyConstraint(
            ["issuer_id", "achievement"],
            ["achievements.issuer_id", "achievements.slug"],
            name="fk_credentials_achievement_achievements",
        ),
        Index("ix_credentials_issuer_issued_on", "issuer_id", "issued_on"),
    )

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # urn:uuid:…
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"))
    # NULL for a credential issued through the W3C VC API: any VC, no achievement, no e-mail.
    achievement: Mapped[str | None] = mapped_column(String(200))
    recipient_hash: Mapped[str | None] = mapped_column(String(200))  # sha256$… IdentityObject value
    lookup_key: Mapped[str | None] = mapped_column(String(200), index=True)  # HMAC of the e-mail
    recipient_name: Mapped[str | None] = mapped_column(String(500))
    # The issuer's own record of whom it awarded (reports, renewal notices,
    # pathway awards); the credential itself carries only a salted hash.
    recipient_email: Mapped[str | None] = mapped_column(String(254))
    recipient_did: Mapped[str | None] = mapped_column(String(1000))
    organization: Mapped[str | None] = mapped_column(String(500))
    credits: Mapped[float | None] = mapped_column(Numeric(12, 3, asdecimal=False))
    issued_on: Mapped[date] = mapped_column(Date)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    format: Mapped[str] = mapped_column(String(10))  # 'di' | 'jwt'
    status: Mapped[str] = mapped_column(String(20), default="active")  # mirrors the bits
    # NULL when the credential has no revocation entry (VC API issuance without one).
    status_list_id: Mapped[int | None] = mapped_column(ForeignKey("status_lists.id"))
    status_index: Mapped[int | None] = mapped_column(Integer)
    suspension_list_id: Mapped[int | None] = mapped_column(ForeignKey("status_lists.id"))
    suspension_index: Mapped[int | None] = mapped_column(Integer)
    credential: Mapped[str] = mapped_column(Text)  # the signed JSON or compact JWT
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    award_key: Mapped[str | None] = mapped_column(String(300))  # NULL: superseded, or no achievement
    superseded_by: Mapped[str | None] = mapped_column(String(200))  # the correction that replaced it


class EventRow(Base):
    """Append-only history: rows are inserted, never updated or deleted."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    credential_id: Mapped[str | None] = mapped_column(ForeignKey("credentials.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# -- What the registry hands out: frozen values, never live ORM rows -----------


class _FromRow:
    __slots__ = ()

    @classmethod
    def from_row(cls, row: Base) -> Any:
        """The record for an ORM row (field names match column attributes)."""
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class IssuerRecord(_FromRow):
    id: int
    did: str
    name: str
    url: str
    email: str | None
    profile: dict[str, Any]
    kind: str = "issuer"  # "association" for an association's own row
    association_id: int | None = None  # a division's association
    brand: dict[str, Any] | None = None

    @property
    def is_association(self) -> bool:
        return self.kind == "association"


@dataclass(frozen=True, slots=True)
class KeyRecord(_FromRow):
    key_id: str
    public_multikey: str
    file: str | None
    created_at: datetime
    retired_at: datetime | None


@dataclass(frozen=True, slots=True)
class AchievementRecord(_FromRow):
    slug: str
    definition: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewCredential:
    """What the caller knows before signing; the registry adds the status slots.

    ``lookup_key`` is the HMAC of the normalised e-mail (computed by the
    caller); with ``issuer_id``, ``achievement`` and ``award_key`` it is the
    idempotency key (``key``: the award key, or ``date:<issued_on>`` when the
    caller names none). ``suspension`` asks for a suspension slot as well.
    """

    id: str
    achievement: str
    recipient_hash: str
    lookup_key: str
    issued_on: date
    valid_from: datetime
    format: str = "di"
    recipient_name: str | None = None
    recipient_email: str | None = None
    recipient_did: str | None = None
    organization: str | None = None
    credits: float | None = None
    valid_until: datetime | None = None
    suspension: bool = False
    award_key: str | None = None

    @property
    def key(self) -> str:
        """The award key stored with the credential (one award per person and key)."""
        return self.award_key or f"date:{self.issued_on.isoformat()}"


@dataclass(frozen=True, slots=True)
class CredentialRecord(_FromRow):
    id: str
    issuer_id: int
    achievement: str | None  # None: issued through the VC API
    recipient_hash: str | None
    lookup_key: str | None
    recipient_name: str | None
    recipient_email: str | None
    recipient_did: str | None
    organization: str | None
    credits: float | None
    issued_on: date
    valid_from: datetime
    valid_until: datetime | None
    format: str
    status: str  # 'active' | 'suspended' | 'revoked'
    status_list_id: int | None
    status_index: int | None
    suspension_list_id: int | None
    suspension_index: int | None
    credential: str
    created_at: datetime
    award_key: str | None = None
    superseded_by: str | None = None


@dataclass(frozen=True, slots=True)
class Issued:
    """The outcome of ``Registry.issue``: ``created`` is False for a repeat."""

    record: CredentialRecord
    created: bool


@dataclass(frozen=True, slots=True)
class StatusListRecord(_FromRow):
    id: int
    issuer_id: int
    purpose: str
    seq: int
    url: str
    size: int
    bits: bytes
    version: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class EventRecord(_FromRow):
    id: int
    issuer_id: int
    credential_id: str | None
    kind: str
    actor: str
    reason: str | None
    at: datetime
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AchievementTotal:
    achievement: str
    credentials: int
    credits: float


@dataclass(frozen=True, slots=True)
class LearnerTotal:
    lookup_key: str
    recipient_name: str | None
    recipient_email: str | None
    credentials: int
    credits: float


@dataclass(frozen=True, slots=True)
class CreditReport:
    """CEUs awarded in a date range (revoked credentials excluded)."""

    by_achievement: tuple[AchievementTotal, ...]
    by_learner: tuple[LearnerTotal, ...]


__all__ = [
    "AchievementRecord",
    "AchievementRow",
    "AchievementTotal",
    "Base",
    "CredentialRecord",
    "CredentialRow",
    "CreditReport",
    "EventRecord",
    "EventRow",
    "IssuerRecord",
    "IssuerRow",
    "Issued",
    "KeyRecord",
    "KeyRow",
    "LearnerTotal",
    "NewCredential",
    "StatusAllocationRow",
    "StatusListRecord",
    "StatusListRow",
    "utcnow",
]


# -- Renewal notices (issue 7, recertification) -----------------------------------


class RenewalNoticeRow(Base):
    """One renewal reminder handed out: written to a file or sent by SMTP.

    The unique key is what makes "never twice for the same cycle" hold, even
    when two runs overlap: the row is inserted before the notice goes out.
    """

    __tablename__ = "renewal_notices"
    __table_args__ = (UniqueConstraint("issuer_id", "credential_id", "cycle_end", "channel"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"))
    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id"))  # the expiring certification
    cycle_end: Mapped[date] = mapped_column(Date)  # its expiry date: the cycle the notice is about
    channel: Mapped[str] = mapped_column(String(10))  # 'file' | 'smtp'
    message_id: Mapped[str] = mapped_column(String(300))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ += ["RenewalNoticeRow"]
# -- end of renewal notices ---------------------------------------------------------


# == Pathways (issue 7): stackable recognition, owned by issuer/awarding/pathways.py ===================


class PathwayRow(Base):
    """A pathway definition (the parsed TOML, as JSON): requirements and the achievement it awards."""

    __tablename__ = "pathways"
    __table_args__ = (UniqueConstraint("issuer_id", "slug"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    slug: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PathwayAwardRow(Base):
    """One person's completion of one pathway.

    The unique key is the once-only guarantee: the row is claimed (inserted
    with ``credential_id`` NULL) before the award is signed, so two servers
    that both see a pathway complete award it once; a claim left pending by a
    crash is finished by the next evaluation that finds the pathway complete
    (``pathway audit`` lists it meanwhile).
    """

    __tablename__ = "pathway_awards"
    # Learner first: the same index finds one person's awards (progress, evaluation).
    __table_args__ = (UniqueConstraint("issuer_id", "lookup_key", "pathway"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    pathway: Mapped[str] = mapped_column(String(200))
    lookup_key: Mapped[str] = mapped_column(String(200))
    # No foreign key: the claim exists before the credential does.
    credential_id: Mapped[str | None] = mapped_column(String(200), index=True)
    awarded_on: Mapped[date] = mapped_column(Date)
    components: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True, slots=True)
class PathwayRecord(_FromRow):
    slug: str
    definition: dict[str, Any]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PathwayAwardRecord(_FromRow):
    pathway: str
    lookup_key: str
    credential_id: str | None  # None while the award is claimed but not yet stored
    awarded_on: date
    components: list[dict[str, Any]]
    awarded_at: datetime


# One person's credentials (pathway evaluation after every issue, progress, transcripts): without it
# SQLite's planner picks ix_credentials_issuer_issued_on for "issuer_id = ? AND lookup_key = ?" and
# scans the whole issuer (measured: 9 ms instead of 0.1 ms at 10,000 credentials). issued_on last,
# so find_credentials' ORDER BY issued_on is served by it too.
Index("ix_credentials_issuer_lookup_key", CredentialRow.issuer_id, CredentialRow.lookup_key,
      CredentialRow.issued_on)

__all__ += ["PathwayAwardRecord", "PathwayAwardRow", "PathwayRecord", "PathwayRow"]
# == end of pathways ==========================================================================


# == Learner links (issue 7): the learner's page, owned by issuer/records/learners.py ==================


class LearnerLinkRow(Base):
    """One unguessable link to a learner's page. Only a SHA-256 of the token is kept,
    so a copy of the database does not open anyone's page; revoking keeps the row."""

    __tablename__ = "learner_links"
    __table_args__ = (Index("ix_learner_links_issuer_id_lookup_key", "issuer_id", "lookup_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex sha256 of the token
    lookup_key: Mapped[str] = mapped_column(String(200))  # the learner (HMAC of the e-mail)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True, slots=True)
class LearnerLinkRecord(_FromRow):
    id: int
    issuer_id: int
    lookup_key: str
    created_at: datetime
    revoked_at: datetime | None


__all__ += ["LearnerLinkRecord", "LearnerLinkRow"]
# == end of learner links ======================================================================


# == Open Badges 3.0 API (issue 19): hosts' OAuth clients, grants, hosted credentials =============
# Owned by issuer/web/oauth_server.py (the authorization server), issuer/records/hosted.py (credentials
# and profiles kept for learners) and issuer/records/push.py (this instance as a host's client).
# Tokens, codes, sign-in links and client secrets this server hands out are kept as SHA-256 hashes only.


class ObClientRow(Base):
    """A learner's host registered by RFC 7591 dynamic registration (its metadata as sent, checked)."""

    __tablename__ = "ob_clients"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))  # hex sha256 of a 256-bit random secret
    client_metadata: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ObSignInRow(Base):
    """A learner's one-time sign-in link, carrying the authorization request it resumes."""

    __tablename__ = "ob_sign_ins"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)  # the authorization request's parameters
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ObCodeRow(Base):
    """An authorization code (single use, short-lived) with its PKCE challenge."""

    __tablename__ = "ob_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254))  # the learner who consented
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    scope: Mapped[str] = mapped_column(String(1000))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ObTokenRow(Base):
    """An access token and its refresh token, for one host and one learner."""

    __tablename__ = "ob_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    access_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    email: Mapped[str] = mapped_column(String(254))
    scope: Mapped[str] = mapped_column(String(1000))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the access token's
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # both tokens stop
    # The authorization code the grant began with (kept through refreshes): a second use of that code
    # revokes every token it led to (RFC 6749 §4.1.2).
    code_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # The learner's consent it came from (kept through refreshes): a token is good only while that grant is.
    grant_id: Mapped[int | None] = mapped_column(BigId, index=True)


class ObGrantRow(Base):
    """One learner's consent to one host ("connected apps" on the learner page), until they withdraw it."""

    __tablename__ = "ob_grants"
    __table_args__ = (Index("ix_ob_grants_issuer_id_lookup_key", "issuer_id", "lookup_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"))
    client_id: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254))  # the learner who consented, as they signed in
    # The learner (HMAC of the e-mail); None only for grants migration 0013 made, until first read.
    lookup_key: Mapped[str | None] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(1000))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # an API call or a refresh
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HostedCredentialRow(Base):
    """A credential a host pushed for one of this site's learners (upsertCredential), verified first.

    Identity is the spec's credential equality: the credential's issuer id and credential id."""

    __tablename__ = "hosted_credentials"
    # Named: the convention's name would be longer than PostgreSQL's 63 characters.
    __table_args__ = (UniqueConstraint("issuer_id", "lookup_key", "credential_issuer", "credential_id",
                                       name="uq_hosted_credentials_identity"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"))
    lookup_key: Mapped[str] = mapped_column(String(200))  # the learner (HMAC of the e-mail)
    credential_issuer: Mapped[str] = mapped_column(String(1000))
    credential_id: Mapped[str] = mapped_column(String(1000))
    format: Mapped[str] = mapped_column(String(10))  # 'json' | 'jws'
    credential: Mapped[str] = mapped_column(Text)  # exactly as received
    valid_from: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ObProfileRow(Base):
    """A learner's Profile as a host last put it (putProfile)."""

    __tablename__ = "ob_profiles"
    __table_args__ = (UniqueConstraint("issuer_id", "lookup_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"))
    lookup_key: Mapped[str] = mapped_column(String(200))
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ObHostRow(Base):
    """This instance as a client of a learner's host (``badgesmith push``): its registration there, and
    a learner's refresh token, both encrypted with a key derived from the instance secret (the host's
    secret has to be sent again, so a hash would not do)."""

    __tablename__ = "ob_hosts"
    __table_args__ = (UniqueConstraint("issuer_id", "base_url", "lookup_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"))
    base_url: Mapped[str] = mapped_column(String(2000))
    lookup_key: Mapped[str] = mapped_column(String(200))  # "" for the registration itself
    sealed: Mapped[str] = mapped_column(Text)  # AES-GCM of the JSON (registration or tokens)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ += ["HostedCredentialRow", "ObClientRow", "ObCodeRow", "ObGrantRow", "ObHostRow", "ObProfileRow",
            "ObSignInRow", "ObTokenRow"]
# == end of the Open Badges 3.0 API ================================================================


# == OAuth 2.0 clients (issue 8): VC API authorisation, owned by issuer/web/clients.py ==============


class ClientRow(Base):
    """An OAuth 2.0 client (client credentials grant). Only a salted scrypt hash of the
    secret is kept; revoking keeps the row, so the name and history stay readable."""

    __tablename__ = "oauth_clients"
    __table_args__ = (UniqueConstraint("issuer_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(300))  # scrypt$n$r$p$salt$hash
    scopes: Mapped[str] = mapped_column(String(200))  # space-separated, as OAuth writes them
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True, slots=True)
class ClientRecord(_FromRow):
    client_id: str
    issuer_id: int
    name: str
    secret_hash: str
    scopes: str
    created_at: datetime
    revoked_at: datetime | None


__all__ += ["ClientRecord", "ClientRow"]
# == end of OAuth clients =======================================================================


# == Wallet offers and wallet copies (issue 20), owned by issuer/awarding/claims.py =================


class WalletOfferRow(Base):
    """One offer to claim an award into a wallet (VC-API exchange or OID4VCI pre-authorized code).

    Only a SHA-256 of the offer's secret is kept (the secret is the exchange token or the
    pre-authorized code), and the transaction code only as a hash keyed by that secret, so a copy of
    the database neither opens an offer nor lets anyone try PINs offline. ``used_at`` is set by the one
    UPDATE that consumes the offer, which is what makes it single use.
    """

    __tablename__ = "wallet_offers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id"), index=True)  # the award
    protocol: Mapped[str] = mapped_column(String(10))  # 'vcapi' | 'oid4vci'
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex sha256 of the secret
    tx_code_hash: Mapped[str | None] = mapped_column(String(64))  # hex sha256 of secret + PIN
    tx_code_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # ended offers are pruned by it
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    copy_id: Mapped[str | None] = mapped_column(String(200))  # the wallet copy it gave


class WalletCopyRow(Base):
    """A credential issued into a wallet: the award again, bound to the holder's DID, with its own
    status entries. Not a row of ``credentials``, so reports, pathways and transcripts, which read
    awards, count the award once; revoking or suspending the award flips these entries too
    (``issuer.store.registry``)."""

    __tablename__ = "wallet_copies"
    # One copy per award, holder and format: a second claim by the same holder gets the same copy.
    __table_args__ = (UniqueConstraint("award_id", "holder", "format"),)

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # urn:uuid:…
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    award_id: Mapped[str] = mapped_column(ForeignKey("credentials.id"))
    holder: Mapped[str] = mapped_column(String(1000))  # the DID bound as credentialSubject.id
    format: Mapped[str] = mapped_column(String(20))  # 'ldp_vc' | 'jwt_vc_json'
    protocol: Mapped[str] = mapped_column(String(10))  # how it was claimed first
    status: Mapped[str] = mapped_column(String(20), default="active")  # mirrors the award's
    status_list_id: Mapped[int | None] = mapped_column(ForeignKey("status_lists.id"))
    status_index: Mapped[int | None] = mapped_column(Integer)
    suspension_list_id: Mapped[int | None] = mapped_column(ForeignKey("status_lists.id"))
    suspension_index: Mapped[int | None] = mapped_column(Integer)
    credential: Mapped[str] = mapped_column(Text)  # the signed JSON or compact JWT
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True, slots=True)
class WalletCopyRecord(_FromRow):
    id: str
    issuer_id: int
    award_id: str
    holder: str
    format: str
    protocol: str
    status: str
    credential: str
    created_at: datetime


__all__ += ["WalletCopyRecord", "WalletCopyRow", "WalletOfferRow"]
# == end of wallet offers ========================================================================


# == OID4VCI proof nonces (issue 20), owned by issuer/awarding/oid4vci_proof.py ====================


class Oid4vciNonceRow(Base):
    """A ``c_nonce`` a wallet's proof of possession has used: one row per nonce until it expires.

    Nonces are handed out without a row (they carry their own HMAC and time); the row is written
    when a proof spends one, so that any worker refuses it a second time. Only a SHA-256 is kept.
    """

    __tablename__ = "oid4vci_nonces"

    nonce_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # hex sha256 of the nonce
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # rows past it are deleted


__all__ += ["Oid4vciNonceRow"]
# == end of OID4VCI proof nonces ===================================================================


# == The association report (issue 18), owned by issuer/association/report.py ========================
# It reads every division's counted credentials in one query (issuer, award date, status, superseded_by,
# achievement, learner, organisation, CEUs, e-mail and name): covered by this index, that is an index scan,
# not a walk through the signed credential texts (measured at 100,000 credentials of 3 kB: 0.4-0.8 s CPU
# instead of 0.8-1.1 s, and it keeps the report off the table's pages). A division's own report uses it too.
Index("ix_credentials_report", CredentialRow.issuer_id, CredentialRow.issued_on, CredentialRow.achievement,
      CredentialRow.status, CredentialRow.superseded_by, CredentialRow.lookup_key, CredentialRow.organization,
      CredentialRow.credits, CredentialRow.recipient_email, CredentialRow.recipient_name)
# == end of the association report ====================================================================
