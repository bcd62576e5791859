"""A learner's connected apps: the hosts holding access to their badges through the OB API, and withdrawing it.

A host gets access when the learner signs in and allows it (a grant, ``ob_grants``,
made by ``issuer.web.oauth_server`` with the first token); each refresh carries the
same grant. A grant is *connected* while it is not withdrawn and one of its tokens
still works (an unexpired access token, or a refresh token). Withdrawing stamps the
grants and revokes their tokens in one transaction; the authorization server reads
the grant with every token, so nothing the host holds, or gets by a racing refresh,
works afterwards. Grants are found by the learner's lookup key (an HMAC of their
address, as the learner page knows them), never by a name a form sends.

Staff see the same from the other side (``badgesmith hosts``): every registered
host with how many learners it reaches, and cutting a whole host off
(``revoke_host``: its registration, every grant and token, at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update

from errors import Code, NotFound
from issuer.awarding.issuing import Issuer
from issuer.records.hosted import learner_key
from issuer.store.models import ObClientRow, ObCodeRow, ObGrantRow, ObTokenRow

WITHDRAWN, ALREADY_WITHDRAWN = "withdrawn", "already withdrawn"


@dataclass(frozen=True, slots=True)
class ConnectedApp:
    """One host with live access to the learner's badges (its grants taken together)."""

    client_id: str
    name: str
    site: str | None  # the host's client_uri, as it registered it (https)
    scopes: tuple[str, ...]
    granted_at: datetime  # the earliest consent still in force
    last_used_at: datetime | None  # its latest API call or token refresh (None: not yet)


def _fill_lookup_keys(issuer: Issuer) -> None:
    # Grants migration 0013 made from older tokens have no lookup key (a migration has no lookup secret).
    # Read first: once they are filled, viewing a learner page writes nothing.
    unkeyed = (ObGrantRow.issuer_id == issuer.issuer_id, ObGrantRow.lookup_key.is_(None))
    with issuer.registry.session(write=False) as s:
        if s.scalar(select(ObGrantRow.id).where(*unkeyed).limit(1)) is None:
            return
    with issuer.registry.session() as s:
        for row in s.scalars(select(ObGrantRow).where(*unkeyed)):
            row.lookup_key = learner_key(issuer, row.email)


def _live(now: datetime) -> Any:
    """A grant with a token that still works, and not withdrawn."""
    working = select(ObTokenRow.id).where(
        ObTokenRow.grant_id == ObGrantRow.id, ObTokenRow.revoked_at.is_(None),
        or_(ObTokenRow.expires_at > now, ObTokenRow.refresh_expires_at > now)).exists()
    return ObGrantRow.withdrawn_at.is_(None) & working


def connected_apps(issuer: Issuer, key: str, now: datetime) -> list[ConnectedApp]:
    """The hosts that hold working access to the badges of the learner with lookup key ``key``, by name."""
    _fill_lookup_keys(issuer)
    with issuer.registry.session(write=False) as s:
        rows = s.execute(select(ObGrantRow, ObClientRow.client_metadata)
                         .join(ObClientRow, ObClientRow.client_id == ObGrantRow.client_id)
                         .where(ObGrantRow.issuer_id == issuer.issuer_id, ObGrantRow.lookup_key == key,
                                ObClientRow.revoked_at.is_(None), _live(now))).all()
        apps: dict[str, dict[str, Any]] = {}
        for grant, metadata in rows:
            app = apps.setdefault(grant.client_id, {"metadata": dict(metadata), "scopes": [], "granted": [],
                                                    "used": []})
            app["scopes"] += [scope for scope in grant.scope.split() if scope not in app["scopes"]]
            app["granted"].append(grant.granted_at)
            app["used"] += [grant.last_used_at] if grant.last_used_at else []
    found = [ConnectedApp(client_id, str(app["metadata"].get("client_name") or client_id),
                          str(app["metadata"].get("client_uri") or "") or None, tuple(app["scopes"]),
                          min(app["granted"]), max(app["used"], default=None)) for client_id, app in apps.items()]
    return sorted(found, key=lambda app: (app.name.casefold(), app.client_id))


def withdraw_app(issuer: Issuer, key: str, client_id: str, now: datetime) -> tuple[str, str]:
    """Stop every access the host ``client_id`` holds to this learner's badges: their grants are withdrawn,
    every access and refresh token revoked, and codes not yet exchanged spent. Returns (``WITHDRAWN``, or
    ``ALREADY_WITHDRAWN`` when nothing was left to stop; the host's name); NotFound when the host never had
    access to this learner (another learner's host looks like no host)."""
    if not isinstance(client_id, str) or not 0 < len(client_id) <= 64:
        raise NotFound(Code.NOT_FOUND, "There is no such connected app on this record.")
    mine = (ObGrantRow.issuer_id == issuer.issuer_id, ObGrantRow.lookup_key == key, ObGrantRow.client_id == client_id)
    _fill_lookup_keys(issuer)
    with issuer.registry.session() as s:
        grants = s.execute(select(ObGrantRow.id, ObGrantRow.email).where(*mine)).all()
        if not grants:
            raise NotFound(Code.NOT_FOUND, "There is no such connected app on this record.")
        stopped = s.execute(update(ObGrantRow).where(*mine, ObGrantRow.withdrawn_at.is_(None))
                            .values(withdrawn_at=now)).rowcount
        s.execute(update(ObTokenRow).where(ObTokenRow.grant_id.in_([g.id for g in grants]),
                                           ObTokenRow.revoked_at.is_(None)).values(revoked_at=now))
        # A code the learner gave this host a moment ago, not yet exchanged, would make a new grant.
        s.execute(update(ObCodeRow).where(ObCodeRow.issuer_id == issuer.issuer_id, ObCodeRow.client_id == client_id,
                                          ObCodeRow.email.in_({g.email for g in grants}), ObCodeRow.used_at.is_(None))
                  .values(used_at=now))
        metadata = s.scalar(select(ObClientRow.client_metadata).where(ObClientRow.client_id == client_id)) or {}
    return WITHDRAWN if stopped else ALREADY_WITHDRAWN, str(metadata.get("client_name") or client_id)


@dataclass(frozen=True, slots=True)
class RegisteredHost:
    """A host registered here (RFC 7591), as staff see it."""

    client_id: str
    name: str
    site: str | None  # its client_uri, as it registered it
    registered_at: datetime
    learners: int  # learners whose grant to it still works
    last_used_at: datetime | None  # its latest API call or token refresh, for any learner
    revoked_at: datetime | None  # cut off by staff (``revoke_host``)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` shape of ``badgesmith hosts list`` and ``hosts revoke``."""
        return {"client_id": self.client_id, "name": self.name, "site": self.site,
                "registered_at": self.registered_at.isoformat(), "learners": self.learners,
                "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None}


def _hosts(s: Any, issuer: Issuer, now: datetime, *only: Any) -> list[RegisteredHost]:
    learners = (select(func.count(func.distinct(ObGrantRow.email)))
                .where(ObGrantRow.client_id == ObClientRow.client_id, _live(now)).scalar_subquery())
    used = select(func.max(ObGrantRow.last_used_at)).where(ObGrantRow.client_id == ObClientRow.client_id) \
        .scalar_subquery()
    rows = s.execute(select(ObClientRow, learners, used).where(ObClientRow.issuer_id == issuer.issuer_id, *only)
                     .order_by(ObClientRow.created_at, ObClientRow.id)).all()
    return [RegisteredHost(row.client_id, str(row.client_metadata.get("client_name") or row.client_id),
                           str(row.client_metadata.get("client_uri") or "") or None, row.created_at,
                           0 if row.revoked_at else count, last, row.revoked_at) for row, count, last in rows]


def registered_hosts(issuer: Issuer, now: datetime) -> list[RegisteredHost]:
    """Every host registered with this instance's OB API, oldest first, revoked ones too."""
    with issuer.registry.session(write=False) as s:
        return _hosts(s, issuer, now)


def revoke_host(issuer: Issuer, client_id: str, now: datetime) -> tuple[bool, RegisteredHost]:
    """Cut the host ``client_id`` off, for every learner at once: its registration is revoked (it cannot
    authenticate, so gets no new token or code), every grant withdrawn, every token revoked, codes not yet
    exchanged spent. Returns (whether this call revoked it, False when it was already; the host as it is now);
    CLIENT_NOT_FOUND for an id never registered here."""
    mine = (ObClientRow.issuer_id == issuer.issuer_id, ObClientRow.client_id == client_id)
    with issuer.registry.session() as s:
        if not isinstance(client_id, str) or not s.scalar(select(ObClientRow.id).where(*mine)):
            raise NotFound(Code.CLIENT_NOT_FOUND, f"No host is registered here with the client id "
                                                  f"{str(client_id)[:100]!r}; see `badgesmith hosts list`.")
        changed = s.execute(update(ObClientRow).where(*mine, ObClientRow.revoked_at.is_(None))
                            .values(revoked_at=now)).rowcount
        # The registration alone stops it (every token is read with its client); the grants and tokens are
        # stopped too, so what learners' pages and the tables say matches what the host can do.
        s.execute(update(ObGrantRow).where(ObGrantRow.issuer_id == issuer.issuer_id, ObGrantRow.client_id == client_id,
                                           ObGrantRow.withdrawn_at.is_(None)).values(withdrawn_at=now))
        s.execute(update(ObTokenRow).where(ObTokenRow.issuer_id == issuer.issuer_id, ObTokenRow.client_id == client_id,
                                           ObTokenRow.revoked_at.is_(None)).values(revoked_at=now))
        s.execute(update(ObCodeRow).where(ObCodeRow.issuer_id == issuer.issuer_id, ObCodeRow.client_id == client_id,
                                          ObCodeRow.used_at.is_(None)).values(used_at=now))
        host = _hosts(s, issuer, now, ObClientRow.client_id == client_id)[0]
    return changed == 1, host


__all__ = ["ALREADY_WITHDRAWN", "ConnectedApp", "RegisteredHost", "WITHDRAWN",
           "connected_apps", "registered_hosts", "revoke_host", "withdraw_app"]
