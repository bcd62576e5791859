"""The spelling rule: a credential is judged only as its contexts spell it. Private.

Data Integrity signs the RDF graph, not the JSON text, so JSON that re-spells
a term keeps a valid signature: ``credentialStatus`` written as its absolute
IRI, ``validUntil`` as a value object, a term aliased by an inline context,
a node split in two, ``@graph``/``@included``/``@nest``/``@reverse``. Every
check and page reads plain JSON keys, so such a credential must never reach
them. Rather than re-deriving the JSON from the graph (JSON-LD compaction
does not round-trip real credentials: scoped contexts, embedded contexts and
aliases in the pinned contexts come back differently), the rule refuses any
JSON that is not written the way its pinned contexts write it:

- every key is a term its contexts define, or an IRI that no pinned term
  stands for; a term from an inline context never stands for a pinned IRI,
  and never re-defines a pinned term's name;
- no keyword keys (``@id``, ``@type``, ``@graph``, ``@included``, ``@nest``,
  ``@reverse``, ``@set``, …) and no keyword aliases other than the pinned
  ``id`` and ``type``; value objects only where a plain value could not say
  the same (a language, a direction, a datatype other than the term's);
- types and ``@vocab`` values are written as their pinned term when there is
  one; ``id`` and ``@id``-typed values are written out in full (no compact IRIs);
- a node with an ``id`` is described in one place (other places repeat it
  exactly or only name it), no array holds the same value twice, and the
  properties the checks read as one value hold one value.

The checks on keys and values run inside JSON-LD expansion, where the active
context is known (``_rdfc_pyld``); the fast path steps aside to pyld whenever
a document could break them. The shape checks below need no context.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Any, Callable, Iterable

import json

from errors import Code, CredentialError

# Properties the checks, summary and pages read as one value. A list there,
# even of one, is refused: the graph may hold several values, and a reader
# that took the first would choose for the attacker.
SINGLE_VALUED = frozenset({
    "id", "issuer", "validFrom", "validUntil", "issuanceDate", "expirationDate",
    "statusPurpose", "statusListIndex", "statusListCredential", "encodedList",
    "creditsEarned", "achievementType", "identityHash", "identityType", "hashed", "salt",
    "verificationMethod", "proofPurpose", "cryptosuite", "created", "expires", "proofValue",
    "holder",
})

# Types whose nodes the checks read property by property.
JUDGED_TYPES = frozenset({
    "VerifiableCredential", "VerifiablePresentation", "OpenBadgeCredential", "AchievementCredential",
    "EndorsementCredential", "ClrCredential", "BitstringStatusListEntry", "StatusList2021Entry",
    "BitstringStatusListCredential", "StatusList2021Credential", "1EdTechRevocationList",
})

_OB_CREDENTIALS = frozenset({"OpenBadgeCredential", "AchievementCredential", "EndorsementCredential"})

# Values that are credentials or proofs in their own right (named graphs, or signed apart).
_OWN_GRAPH = frozenset({"verifiableCredential", "proof", "endorsement"})

# Objects the checks read as one, where a list of one is a re-spelling of that object
# (VC 2.0 allows a set of subjects; a transcript's subject, of the type named here, lists
# its achievements). Texts shown in the summary take a list of one as its item instead.
ONE_OBJECT = {"credentialSubject": None, "achievement": "ClrSubject"}

_KEYWORD_ALIASES = frozenset({("id", "@id"), ("type", "@type")})


def respelled(written: str, path: str, why: str) -> CredentialError:
    """The one error of the rule: names the offending key (or value) and where it is."""
    return CredentialError(
        Code.JSON_RESPELLED,
        f"The credential writes '{written[:200]}' at {path}, {why}. Badgesmith judges a "
        "credential only in the spelling its contexts define, so a re-spelled credential is refused.",
        term=written[:200], path=path,
    )


class PinnedTerms:
    """What the pinned contexts a document names define: term ⇄ IRI, both ways."""

    __slots__ = ("names_by_iri", "iris_by_name")

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        names: dict[str, set[str]] = {}
        iris: dict[str, set[str]] = {}
        for name, iri in pairs:
            names.setdefault(iri, set()).add(name)
            iris.setdefault(name, set()).add(iri)
        self.names_by_iri = {iri: frozenset(v) for iri, v in names.items()}
        self.iris_by_name = {name: frozenset(v) for name, v in iris.items()}

    def term_problem(self, name: str, iri: str) -> str | None:
        """Why ``name`` may not stand for ``iri`` (None when it may)."""
        if iri.startswith("@"):
            if (name, iri) in _KEYWORD_ALIASES:
                return None
            return f"an alias of the keyword {iri}"
        pinned_names = self.names_by_iri.get(iri)
        if pinned_names is not None and name not in pinned_names:
            return f"where its contexts say '{sorted(pinned_names)[0]}'"
        pinned_iris = self.iris_by_name.get(name)
        if pinned_iris is not None and iri not in pinned_iris:
            return f"re-defined by an inline context (its pinned meaning is {sorted(pinned_iris)[0]})"
        return None

    def iri_problem(self, written: str, iri: str) -> str | None:
        """Why ``written`` (not a term) may not spell ``iri`` (None when it may)."""
        names = self.names_by_iri.get(iri)
        if names:
            return f"where its contexts say '{sorted(names)[0]}'"
        return None


# -- the pinned terms of a set of context URLs --------------------------------------------------

def _resolve(raw: str, prefixes: dict[str, str], vocab: str | None, local: dict[str, Any]) -> str:
    if raw.startswith("@"):
        return raw
    if ":" in raw:
        prefix, suffix = raw.split(":", 1)
        if not suffix.startswith("//") and prefix in prefixes:
            return prefixes[prefix] + suffix
        return raw
    target = local.get(raw)
    if isinstance(target, str) and target != raw and ":" in target:
        return _resolve(target, prefixes, vocab, {})
    if isinstance(target, dict) and isinstance(target.get("@id"), str) and target["@id"] != raw:
        return _resolve(target["@id"], prefixes, vocab, {})
    return (vocab or "") + raw


def _context_pairs(context: Any, prefixes: dict[str, str], vocab: str | None,
                   out: list[tuple[str, str]], depth: int = 0) -> tuple[dict[str, str], str | None]:
    """Walk a context's JSON (and its scoped contexts) for (term, IRI); returns what it defines."""
    if depth > 16:
        return prefixes, vocab
    if isinstance(context, list):
        for item in context:
            prefixes, vocab = _context_pairs(item, prefixes, vocab, out, depth + 1)
        return prefixes, vocab
    if not isinstance(context, dict):
        return prefixes, vocab
    if isinstance(context.get("@vocab"), str):
        vocab = _resolve(context["@vocab"], prefixes, vocab, {})
    prefixes = dict(prefixes)
    for term, definition in context.items():
        raw = definition if isinstance(definition, str) else (
            definition.get("@id") if isinstance(definition, dict) else None)
        if not term.startswith("@") and isinstance(raw, str) and ":" in raw and not raw.startswith("@"):
            prefixes[term] = _resolve(raw, prefixes, vocab, {})
    for term, definition in context.items():
        if term.startswith("@") or definition is None:
            continue
        if isinstance(definition, dict):
            raw = definition.get("@id", definition.get("@reverse"))
            if not isinstance(raw, str):
                raw = term
        elif isinstance(definition, str):
            raw = definition
        else:
            continue
        out.append((term, _resolve(raw, prefixes, vocab, context)))
        if isinstance(definition, dict) and "@context" in definition:
            _context_pairs(definition["@context"], prefixes, vocab, out, depth + 1)
    return prefixes, vocab


_TABLES: OrderedDict[tuple[int, tuple[str, ...]], tuple[Any, PinnedTerms]] = OrderedDict()
_TABLES_LOCK = Lock()


def pinned_terms(loader: Callable[..., Any], urls: tuple[str, ...]) -> PinnedTerms:
    """The terms the pinned contexts ``urls`` define (memoised per loader and URL set).

    Contexts are pinned and immutable, so the table never goes stale.
    """
    key = (id(loader), urls)
    hit = _TABLES.get(key)
    if hit is not None and hit[0] is loader:
        return hit[1]
    pairs: list[tuple[str, str]] = []
    for url in urls:
        try:
            remote = loader(url, {})
        except Exception:  # an unknown context fails expansion with its own error
            continue
        document = remote.get("document") if isinstance(remote, dict) else None
        if isinstance(document, (str, bytes)):
            document = json.loads(document)
        if isinstance(document, dict):
            _context_pairs(document.get("@context"), {}, None, pairs)
    table = PinnedTerms(pairs)
    with _TABLES_LOCK:
        _TABLES[key] = (loader, table)
        while len(_TABLES) > 64:
            _TABLES.popitem(last=False)
    return table


# -- the shape checks (no context needed) -------------------------------------------------------

def format_path(parts: tuple[Any, ...] | list[Any]) -> str:
    """``("credentialSubject", "identifier", 0, "foo")`` → ``credentialSubject.identifier[0].foo``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _fingerprint(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (type(value).__name__, value)


def _one_object_here(key: str, node: dict[str, Any]) -> bool:
    """Whether ``node`` reads ``key`` as one object (see ``ONE_OBJECT``)."""
    names = _type_names(node)
    if key == "credentialSubject":  # VC 2.0 allows a set of subjects; an Open Badge has one
        return not names.isdisjoint(_OB_CREDENTIALS)
    return ONE_OBJECT[key] not in names


def _type_names(node: dict[str, Any]) -> set[str]:
    types = node.get("type")
    return {types} if isinstance(types, str) else {t for t in types if isinstance(t, str)} \
        if isinstance(types, list) else set()


def _judged(node: dict[str, Any], path: tuple[Any, ...]) -> bool:
    """Whether the verdict reads this node's own properties: a credential, presentation or status entry."""
    if not path:
        return True
    if path[-1] == "credentialStatus" or (len(path) > 1 and path[-2] == "credentialStatus"):
        return True
    return not _type_names(node).isdisjoint(JUDGED_TYPES)


def _one_description(node_id: str, first: tuple[dict[str, Any], tuple[Any, ...]],
                     other: tuple[dict[str, Any], tuple[Any, ...]]) -> None:
    """Two different descriptions of one node: refused when the verdict reads that node.

    A credential's own id may reappear elsewhere naming it with more types (the OB
    examples give ``refreshService`` the credential's id), but never with a property
    or a type the checks read: moved there, it would vanish from where they look.
    """
    judged = [d for d in (first, other) if _judged(*d)]
    if not judged:
        return
    if len(judged) == 2:
        raise respelled(node_id, format_path(other[1]), f"describing a node that {format_path(first[1])} describes "
                        "differently (a credential or status entry is described in one place)")
    extra = other if judged[0] is first else first
    node, path = extra
    if any(k not in ("id", "type", "@context") for k in node) or _type_names(node) & JUDGED_TYPES:
        raise respelled(node_id, format_path(path), f"adding to the description of {format_path(judged[0][1])} from "
                        "another place (a credential or status entry is described in one place)")


def check_shape(document: Any, *, max_depth: int, max_context_entries: int, max_list_items: int,
                too_deep: Callable[[], Exception], too_many_contexts: Callable[[int], Exception],
                too_many_items: Callable[[int, str], Exception]) -> tuple[str, ...]:
    """Refuse split nodes, repeated array items and lists where one value belongs.

    One iterative walk that also enforces the nesting, ``@context`` length and list
    length limits (raising what ``too_deep`` / ``too_many_contexts`` / ``too_many_items``
    make; these win over a spelling problem found on the way). Returns the URL contexts
    the document names anywhere (for ``pinned_terms``).
    """
    urls: list[str] = []
    problem: CredentialError | None = None  # raised after the walk: the limits are judged first
    # Embedded credentials and proofs are graphs of their own: the same issuer may be
    # described differently in two credentials of a transcript. One node map per scope.
    Scope = dict[str, tuple[dict[str, Any], tuple[Any, ...]]]
    pending: list[tuple[Any, tuple[Any, ...], Scope]] = [(document, (), {})]
    while pending:
        value, path, described = pending.pop()
        if len(path) >= max_depth:
            raise too_deep()
        if isinstance(value, dict):
            if path and (path[-1] in _OWN_GRAPH or (len(path) > 1 and isinstance(path[-1], int)
                                                    and path[-2] in _OWN_GRAPH) or "proof" in value):
                described = {}
            context = value.get("@context")
            if context is None:  # most nodes: no type tests to spend
                pass
            elif isinstance(context, list):
                if len(context) > max_context_entries:
                    raise too_many_contexts(len(context))
                urls.extend(c for c in context if isinstance(c, str) and c not in urls)
                pending.extend((c, path + ("@context", i), {}) for i, c in enumerate(context)
                               if isinstance(c, dict))
            elif isinstance(context, str):
                if context not in urls:
                    urls.append(context)
            elif isinstance(context, dict):
                pending.append((context, path + ("@context",), {}))
            node_id = value.get("id")
            # a key besides "id" and "@context": the node is described here, not only named
            if isinstance(node_id, str) and len(value) > 1 + ("@context" in value):
                first = described.get(node_id)
                if first is None:
                    described[node_id] = (value, path)
                elif first[0] != value and problem is None:
                    try:
                        _one_description(node_id, first, (value, path))
                    except CredentialError as error:
                        problem = error
            for key, item in value.items():
                if key == "@context" or not isinstance(item, (dict, list)):
                    continue
                if isinstance(item, list):
                    if len(item) > max_list_items:
                        raise too_many_items(len(item), format_path(path + (key,)))
                    if problem is None and (key in SINGLE_VALUED or (
                            len(item) == 1 and key in ONE_OBJECT and _one_object_here(key, value))):
                        problem = respelled(key, format_path(path + (key,)), "as a list, but it takes one value")
                pending.append((item, path + (key,), described))
        else:  # a list
            if len(value) > max_list_items:
                raise too_many_items(len(value), format_path(path))
            if len(value) > 1 and problem is None:
                seen: set[Any] = set()
                for i, item in enumerate(value):
                    if isinstance(item, dict):
                        if isinstance(item.get("id"), str):
                            mark: Any = ("id", item["id"])  # one node, split over two items, is still one
                        elif "@value" in item:
                            mark = _fingerprint(item)
                        else:
                            continue  # blank nodes: two alike are still two nodes
                    else:
                        mark = _fingerprint(item)
                    if mark in seen:
                        problem = respelled(str(item)[:80] if not isinstance(item, (dict, list))
                                            else "a repeated item", format_path(path + (i,)),
                                            "a second time in the same list")
                        break
                    seen.add(mark)
            for i, item in enumerate(value):
                if isinstance(item, (dict, list)):
                    pending.append((item, path + (i,), described))
    if problem is not None:
        raise problem
    return tuple(urls)


__all__ = ["PinnedTerms", "SINGLE_VALUED", "check_shape", "format_path", "pinned_terms", "respelled"]
