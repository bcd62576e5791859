"""The association's public catalog: ``/catalog`` (a search page), ``/catalog.json`` (the same search as a
JSON feed) and one page per entry (``/catalog/<division>/<id>`` for an achievement,
``/catalog/<division>/pathways/<id>`` for a pathway; JSON for a client that asks for it).

Served only where the app's instance is an association (``[association] role = "association"``); anywhere
else these addresses are 404. The search logic is ``issuer.association.catalog``; this module reads the
request and renders. Nothing here writes, so no form needs CSRF protection (the search form is a GET).
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, Response, abort, current_app, has_request_context, render_template, request, url_for

from errors import Code, InputError
from issuer.association.catalog import PAGE_SIZE, Catalog, CatalogQuery, Entry, EntryRef, build_catalog
from issuer.association.setup import Association

bp = Blueprint("catalog", __name__)

PUBLIC_CACHE = "public, max-age=300"
MAX_QUERY_STRING = 2048  # bytes: every parameter at its longest fits in well under this
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _is_association_site() -> bool:
    issuer = current_app.extensions["badgesmith"].issuer
    link = issuer.settings.association if issuer is not None else None
    return link is not None and link.role == "association"


@bp.app_context_processor
def _catalog_link() -> dict[str, Any]:
    """``catalog_url`` for the site's navigation (base.html), on an association's site only."""
    shown = has_request_context() and _is_association_site()  # a page rendered for a request, not a file
    return {"catalog_url": url_for("catalog.catalog_page") if shown else None}


def _association() -> Association:
    if not _is_association_site():
        abort(404)
    issuer = current_app.extensions["badgesmith"].issuer
    record = issuer.registry.get_issuer(issuer.did)
    if record is None:
        abort(404)
    return Association(record, issuer.registry, issuer, issuer.settings.lookup_secret)


def _catalog() -> Catalog:
    return build_catalog(_association())


def _page(ref: EntryRef) -> str:
    if ref.kind == "pathway":
        return url_for("catalog.pathway_page", division=ref.division, slug=ref.slug, _external=True)
    return url_for("catalog.achievement_page", division=ref.division, slug=ref.slug, _external=True)


def _query() -> CatalogQuery:
    if len(request.query_string) > MAX_QUERY_STRING:
        raise InputError(Code.CATALOG_QUERY_INVALID, f"The search is longer than {MAX_QUERY_STRING} bytes: "
                         "shorten it.")
    return CatalogQuery.from_args(request.args)


def _json(data: Any, status: int = 200) -> Response:
    response = Response(json.dumps(data, indent=2, ensure_ascii=False), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = PUBLIC_CACHE
    response.headers["Access-Control-Allow-Origin"] = "*"  # a public feed, read by members' and partners' sites
    response.headers["Vary"] = "Accept"
    return response


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"], default="text/html")
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


@bp.get("/catalog")
def catalog_page() -> Any:
    """The search page: the form, then the entries that match (50 a page)."""
    catalog = _catalog()
    if _wants_json():
        return catalog_feed()
    try:
        query = _query()
        found = catalog.search(query)
    except InputError as error:
        html = render_template("catalog/index.html", catalog=catalog, query=None, args=request.args, error=error,
                               entries=[], total=0, page=1, pages=1, page_url=None,
                               entry_url=_page)
        return Response(html, status=400)
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(query.page, pages)
    shown = found[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]

    def page_url(number: int) -> str:
        return url_for("catalog.catalog_page", **{**query.to_dict(), "page": number})

    response = Response(render_template("catalog/index.html", catalog=catalog, query=query, args=request.args,
                                        error=None, entries=shown, total=len(found), page=page, pages=pages,
                                        page_url=page_url, entry_url=_page))
    response.headers["Cache-Control"] = PUBLIC_CACHE
    response.headers["Vary"] = "Accept"
    return response


@bp.get("/catalog.json")
def catalog_feed() -> Response:
    """The JSON feed: every entry the query matches (no paging: a catalog is hundreds of entries)."""
    catalog = _catalog()
    try:
        query = _query()
        found = catalog.search(query)
    except InputError as error:  # a feed's client reads errors in JSON, whatever it sent as Accept
        response = _json({"error": error.to_dict()}, status=error.http_status)
        response.headers["Cache-Control"] = "no-store"
        return response
    return _json({
        "association": {"id": catalog.association.did, "name": catalog.association.name,
                        "url": catalog.association.url},
        "divisions": [{"id": d.id, "did": d.did, "name": d.name, "url": d.url} for d in catalog.sources],
        "query": {k: v for k, v in query.to_dict().items() if k != "page"},
        "total": len(found),
        "entries": [e.to_dict(_page) for e in found],
    })


@bp.get("/catalog/<int:division>/<slug>")
def achievement_page(division: int, slug: str) -> Any:
    """One achievement: what it is, its criteria, CEUs, tags, alignments and the pathways it counts toward."""
    return _entry_response(division, "achievement", slug)


@bp.get("/catalog/<int:division>/pathways/<slug>")
def pathway_page(division: int, slug: str) -> Any:
    """One pathway: what it requires (with links to those entries) and what it awards."""
    return _entry_response(division, "pathway", slug)


def _entry_response(division: int, kind: str, slug: str) -> Any:
    if not _SLUG.match(slug) or len(slug) > 200:
        abort(404)
    catalog = _catalog()
    entry: Entry = catalog.entry(division, kind, slug)
    if _wants_json():
        return _json(entry.to_dict(_page))
    response = Response(render_template("catalog/entry.html", entry=entry, catalog=catalog, entry_url=_page))
    response.headers["Cache-Control"] = PUBLIC_CACHE
    response.headers["Vary"] = "Accept"
    return response


__all__ = ["bp"]
