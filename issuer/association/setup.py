"""Setting up an association and its divisions, and opening them: what every association feature starts from.

An association is an instance of its own (``badgesmith association init``): a
folder with its settings (``[association] role = "association"``), its key and
lookup secret, and the database its divisions share. Its row in ``issuers`` has
``kind`` "association". A division is an ordinary instance made with
``badgesmith init --association DIR_OR_URL``: it keeps its own name, key, DID,
brand and achievements, but its ``[database] url`` and ``keys/lookup.secret``
are the association's, and its ``[association]`` table names the association
(its Profile's ``parentOrg``). Its row's ``association_id`` points at the
association's row.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from errors import Code, InputError, NotFound
from issuer.awarding.issuing import Issuer, create_instance
from issuer.instance.database import url_without_password
from issuer.instance.settings import SETTINGS_FILE, AssociationSettings, load_settings
from issuer.store.models import IssuerRecord, IssuerRow
from issuer.store.registry import Registry


@dataclass(frozen=True, slots=True)
class Division:
    """One division as the association's pages and reports show it."""

    id: int  # the issuer row id: credentials, achievements and pathways carry it as issuer_id
    did: str
    name: str
    url: str
    email: str | None
    brand: dict[str, Any]  # name, primary_color, contact_email, logo (a URL or None)
    profile: dict[str, Any]  # the division's OB 3.0 Profile (with parentOrg)


@dataclass
class Association:
    """An open association: its issuer row and the shared registry.

    ``issuer`` is the association's own ``Issuer`` (its key) when it was opened
    from its folder; opened from a database URL it is None and the association
    can be read (reports, the catalog) but signs nothing.
    """

    record: IssuerRecord
    registry: Registry
    issuer: Issuer | None = None
    lookup_secret: bytes | None = None

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def did(self) -> str:
        return self.record.did

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def url(self) -> str:
        return self.record.url

    def close(self) -> None:
        """Close the database connections."""
        self.registry.dispose()


def is_instance_folder(value: str | os.PathLike[str]) -> bool:
    """True when ``value`` names a folder holding a Badgesmith instance (not a database URL)."""
    return "://" not in str(value) and (Path(value).expanduser() / SETTINGS_FILE).is_file()


def open_association(home_or_db: str | os.PathLike[str], *, passphrase: str | None = None,
                     database_url: str | None = None) -> Association:
    """The association in a folder (with its key: it can sign) or in a database URL (read only).

    NotFound ASSOCIATION_NOT_FOUND when the folder is not an association's or the
    database holds none (or several: name the folder then).
    """
    if is_instance_folder(home_or_db):
        home = Path(home_or_db).expanduser().absolute()
        settings = load_settings(home)
        if settings.association is None or settings.association.role != "association":
            raise NotFound(Code.ASSOCIATION_NOT_FOUND, f"{home} holds an instance that is not an association: "
                           "name the association's folder (made by `badgesmith association init`).", home=str(home))
        issuer = Issuer.open(home, passphrase=passphrase, database_url=database_url)
        record = issuer.registry.get_issuer(issuer.did)
        return Association(record, issuer.registry, issuer, settings.lookup_secret)
    url = str(home_or_db)
    if "://" not in url:
        raise NotFound(Code.ASSOCIATION_NOT_FOUND, f"There is no Badgesmith instance in {url}: name the "
                       "association's folder or its database URL.", home=url)
    registry = Registry.from_url(url)
    registry.migrate()
    return Association(_only_association(registry), registry)


def _only_association(registry: Registry) -> IssuerRecord:
    with registry.session(write=False) as s:
        rows = list(s.scalars(select(IssuerRow).where(IssuerRow.kind == "association").limit(2)))
        records = [IssuerRecord.from_row(row) for row in rows]
    if len(records) != 1:
        raise NotFound(Code.ASSOCIATION_NOT_FOUND,
                       "This database holds no association: create one with `badgesmith association init`."
                       if not records else "This database holds several associations: name the association's "
                       "folder instead of the database.")
    return records[0]


def association_of(issuer: Issuer) -> Association:
    """The association a division belongs to, read from the shared database (it signs nothing)."""
    with issuer.registry.session(write=False) as s:
        row = s.get(IssuerRow, issuer.issuer_id)
        parent = None if row is None or row.association_id is None else s.get(IssuerRow, row.association_id)
        record = None if parent is None else IssuerRecord.from_row(parent)
    if record is None:
        raise NotFound(Code.ASSOCIATION_NOT_FOUND, f"{issuer.settings.name} is not a division of an association.")
    return Association(record, issuer.registry, None, issuer.settings.lookup_secret)


def association_for(issuer: Issuer) -> Association | None:
    """The association ``issuer`` is, when its instance is an association's (its site, its pages); else None."""
    link = issuer.settings.association
    if link is None or link.role != "association":
        return None
    return Association(issuer.registry.get_issuer(issuer.did), issuer.registry, issuer, issuer.settings.lookup_secret)


def divisions(association: Association) -> list[Division]:
    """The association's divisions, by name (then id)."""
    query = (select(IssuerRow).where(IssuerRow.association_id == association.id)
             .order_by(IssuerRow.name, IssuerRow.id))
    with association.registry.session(write=False) as s:
        return [Division(id=row.id, did=row.did, name=row.name, url=row.url, email=row.email,
                         brand=row.brand or {"name": row.name}, profile=row.profile or {})
                for row in s.scalars(query)]


def association_profile(association: Association) -> dict[str, Any]:
    """The association's Profile as its site serves it, listing its divisions.

    OB 3.0 has ``parentOrg`` (child → parent) but no term for the other way, so
    the divisions are listed under ``divisions``, an issuer-dependent term of the
    VC 2.0 context's ``@vocab``, each as a Profile naming the association as
    ``parentOrg``. Credentials the association signs carry its plain Profile.
    """
    own = association.issuer.profile() if association.issuer is not None else {
        "id": association.did, "type": ["Profile"], "name": association.name, "url": association.url}
    return {**own, "divisions": [{"id": d.did, "type": ["Profile"], "name": d.name, "url": d.url}
                                 for d in divisions(association)]}


# -- creating -------------------------------------------------------------------------------------------


def create_association(home: Path, *, name: str, url: str, email: str | None = None, did_web: str | None = None,
                       database_url: str | None = None, passphrase: str | None = None) -> Association:
    """``badgesmith association init``: the association's folder, key, lookup secret and (migrated) database.

    ``database_url`` (default: a SQLite file in the folder) is written to its badgesmith.toml without its
    password, so that its divisions learn the shared database there (``url_without_password``)."""
    written = None if database_url is None else url_without_password(database_url)
    issuer = create_instance(home, name=name, url=url, email=email, did_web=did_web, database_url=written,
                             passphrase=passphrase, association=AssociationSettings("association"),
                             open_database=database_url if database_url != written else None)
    return Association(issuer.registry.get_issuer(issuer.did), issuer.registry, issuer,
                       issuer.settings.lookup_secret)


def create_division(home: Path, *, association: str, name: str, url: str, lookup_secret: bytes | None = None,
                    database_url: str | None = None, **options: Any) -> Issuer:
    """``badgesmith init --association DIR_OR_URL``: a new division instance of that association.

    DIR is the association's folder (its database URL and lookup secret are read
    there). URL is the shared database's URL, for a division on another machine:
    then ``lookup_secret`` (a copy of the association's ``keys/lookup.secret``)
    is required. ``database_url`` (``--db`` or ``$DATABASE_URL``), when given, must
    name the association's database; it is what the division connects with (it may
    carry the password). The division's badgesmith.toml names the shared database
    without its password.
    """
    if is_instance_folder(association):
        settings = load_settings(Path(association).expanduser())
        if settings.association is None or settings.association.role != "association":
            raise NotFound(Code.ASSOCIATION_NOT_FOUND, f"{association} holds an instance that is not an association:"
                           " name the folder made by `badgesmith association init`.", home=str(association))
        shared_db, secret = settings.database_url, lookup_secret or settings.lookup_secret
    elif "://" in association:
        if lookup_secret is None:
            raise InputError(Code.USAGE, "A division joined by the association's database URL needs the "
                             "association's lookup secret: pass --lookup-secret with a copy of its "
                             "keys/lookup.secret.")
        shared_db, secret = association, lookup_secret
    else:
        raise NotFound(Code.ASSOCIATION_NOT_FOUND, f"There is no Badgesmith instance in {association}: name the "
                       "association's folder or its database URL.", home=association)
    written = url_without_password(shared_db)
    if database_url is not None and url_without_password(database_url) != written:
        raise InputError(Code.USAGE, "A division uses its association's database: leave --db out (or make "
                         "$DATABASE_URL name the association's database).")
    connect = database_url or shared_db
    registry = Registry.from_url(connect)
    try:
        registry.migrate()
        record = _only_association(registry) if "://" in association else _association_in(registry, settings)
    finally:
        registry.dispose()
    link = AssociationSettings("division", did=record.did, name=record.name, url=record.url)
    return create_instance(home, name=name, url=url, database_url=written, association=link,
                           lookup_secret=secret, open_database=connect if connect != written else None, **options)


def _association_in(registry: Registry, settings: Any) -> IssuerRecord:
    """The association row of the association folder ``settings`` (its base URL is its own: the status
    list URLs of two issuers cannot share one)."""
    with registry.session(write=False) as s:
        row = s.scalar(select(IssuerRow).where(IssuerRow.kind == "association", IssuerRow.url == settings.url)
                       .order_by(IssuerRow.id).limit(1))
        record = None if row is None else IssuerRecord.from_row(row)
    if record is None:
        raise NotFound(Code.ASSOCIATION_NOT_FOUND, f"The association {settings.name} is not in its database: "
                       "open it once (`badgesmith association init` does).", home=str(settings.home))
    return record


__all__ = ["Association", "Division", "association_for", "association_of", "association_profile", "create_association",
           "create_division", "divisions", "is_instance_folder", "open_association"]
