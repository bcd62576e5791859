"""pyld, made safe: per-loader context caches, safe mode, quads out. Private.

Why a subclass of pyld's processor rather than a separate pass over the input:
deciding whether a key is defined needs the exact active context at that spot
(type-scoped contexts that stop propagating, property-scoped contexts,
protected terms). pyld already computes it; re-implementing it in a second
pass would be a second JSON-LD processor that could disagree with the first.
So the checks run inside pyld's own ``_expand_object`` / ``_expand_value``
with the context pyld is about to use (the same hooks jsonld.js' ``safeMode``
uses), and they only ever *raise*: the output of an accepted document is
exactly plain pyld's.

Why per-loader resolvers: pyld's default ``ContextResolver`` caches resolved
contexts in a process-global LRU keyed by URL only, so a context loaded once
by a permissive loader would later be served to a strict loader without
asking it. Each loader gets its own resolved-context cache here.

Why our own ``_Resolver``: pyld keys every context *object* (an inline
``@context``, and each type- or property-scoped context of the OB context,
resolved again at every node that uses it) by its JCS serialisation, in pure
Python: about 40 % of a credential with an inline context. Here the key is
the C JSON encoder's sorted serialisation (any exact serialisation is a
correct key: equal keys mean equal contexts), worked out once per loader for
the pinned contexts' own objects. And pyld remembers a context processed on
top of at most 10 active contexts, which the OB context's scoped contexts
outgrow, and it forgets a URL's context after each operation unless the
loader tags the document, so it processed the OB context and its scoped
contexts again for every credential; here it remembers ``_MAX_ACTIVE``
active contexts per context, and every URL's context for the loader's life.
"""

from __future__ import annotations

import json
import re
from threading import RLock
from typing import Any

from cachetools import LRUCache
from pyld.context_resolver import ContextResolver
from pyld.resolved_context import ResolvedContext
from pyld.jsonld import (
    REGEX_BCP47,
    JsonLdError,
    JsonLdProcessor,
    _is_absolute_iri,
    _is_array,
    _is_keyword,
    _is_string,
)
from keys._rdfc_escape import escape_literal as escape

from errors import Code, CredentialError
from keys._rdfc_spelling import PinnedTerms, format_path, respelled

_get_value = JsonLdProcessor.get_context_value
_VALUE_KEYWORDS = frozenset({"@value", "@language", "@direction", "@type", "@index"})

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

Quad = tuple[str, str, str, "str | None"]


def undefined_term(term: str, path: str) -> CredentialError:
    return CredentialError(
        Code.UNDEFINED_TERM,
        f"The term '{term}' at {path} is not defined by any of the credential's "
        "contexts, so it would not be signed.",
        term=term,
        path=path,
    )


def undefined_type(term: str, path: str) -> CredentialError:
    return CredentialError(
        Code.UNDEFINED_TERM,
        f"The type '{term}' at {path} is not defined by any of the credential's "
        "contexts, so it would not be signed.",
        term=term,
        path=path,
    )


def relative_iri(value: str, path: str) -> CredentialError:
    return CredentialError(
        Code.JSONLD_INVALID,
        f"The value '{value[:200]}' at {path} must be an absolute IRI (such as "
        "https://… or urn:uuid:…); a relative one would not be signed.",
        term=value[:200],
        path=path,
    )


def invalid_language(value: str, path: str) -> CredentialError:
    return CredentialError(
        Code.JSONLD_INVALID,
        f"The language tag '{value[:50]}' at {path} is not a valid BCP 47 tag.",
        path=path,
    )


def _is_iri(value: Any) -> bool:
    # A blank node label counts as absolute for pyld; so it does here.
    return bool(_is_absolute_iri(value))


class _BoundedCache(dict):
    """pyld's resolved-context cache: plain dict semantics, emptied when full.

    It only fills past a few dozen entries when documents carry many distinct
    inline contexts; starting over then is cheaper than LRU bookkeeping.
    """

    limit = 500

    def __setitem__(self, key: Any, value: Any) -> None:
        if len(self) >= self.limit:
            self.clear()
        super().__setitem__(key, value)


_MAX_ACTIVE = 256


def _context_key(ctx: dict[str, Any]) -> str:
    return json.dumps(ctx, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class _PinnedKeys(dict):
    """``id(context object) -> (object, key)`` for the objects inside loaded contexts.

    The object is held, so its id cannot be reused by another while the entry
    lives; loaded contexts are immutable, so the key never goes stale.
    """

    limit = 20_000

    def add(self, document: Any) -> None:
        pending = [document]
        while pending and len(self) < self.limit:
            node = pending.pop()
            if isinstance(node, dict):
                if id(node) not in self:
                    self[id(node)] = (node, None)
                pending.extend(node.values())
            elif isinstance(node, list):
                pending.extend(node)

    def key(self, ctx: dict[str, Any]) -> str | None:
        entry = self.get(id(ctx))
        if entry is None or entry[0] is not ctx:
            return None
        if entry[1] is None:
            entry = self[id(ctx)] = (ctx, _context_key(ctx))
        return entry[1]


class _Resolver(ContextResolver):
    """pyld's resolver with cheap keys for context objects and deeper processed-context caches.

    Same results as ``ContextResolver``: only how a context object is looked
    up in the caches differs (see the module docstring).
    """

    def __init__(self, shared_cache: Any, document_loader: Any, pinned: _PinnedKeys) -> None:
        super().__init__(shared_cache, document_loader)
        self._pinned = pinned
        self._keys: dict[int, tuple[Any, str]] = {}  # this operation's own context objects

    def object_key(self, ctx: dict[str, Any]) -> str:
        """The cache key of a context object: its sorted JSON, worked out once per object."""
        key = self._pinned.key(ctx)
        if key is None:
            entry = self._keys.get(id(ctx))
            if entry is None or entry[0] is not ctx:
                entry = self._keys[id(ctx)] = (ctx, _context_key(ctx))
            key = entry[1]
        return key

    def local_key(self, local_ctx: Any) -> Any:
        """A key for a local ``@context`` value (URL, object, null or a list of them); None if odd."""
        if isinstance(local_ctx, str):
            return ("url", local_ctx)
        if isinstance(local_ctx, dict):
            return ("object", self.object_key(local_ctx))
        if local_ctx is None or local_ctx is False:
            return ("null", local_ctx)
        if isinstance(local_ctx, list):
            keys = tuple(self.local_key(item) for item in local_ctx)
            return None if None in keys else ("list", keys)
        return None

    def resolve(self, active_ctx, context, base, cycles=None):
        if isinstance(context, dict) and "@context" in context:
            context = context["@context"]
        resolved = []
        for ctx in context if isinstance(context, list) else [context]:
            if not isinstance(ctx, dict):
                resolved.extend(super().resolve(active_ctx, ctx, base, cycles))
                continue
            key = self.object_key(ctx)
            found = self._get(key)
            if not found:
                found = ResolvedContext(ctx)
                self._cache_resolved_context(key, found, "static")
            resolved.append(found)
        return resolved

    def _fetch_context(self, active_ctx, url, cycles):
        context, remote_doc = super()._fetch_context(active_ctx, url, cycles)
        self._pinned.add(context)
        return context, remote_doc

    def _cache_resolved_context(self, key, resolved, tag):
        for item in resolved if isinstance(resolved, list) else [resolved]:
            if item.cache.maxsize < _MAX_ACTIVE:
                item.cache = LRUCache(maxsize=_MAX_ACTIVE)
        # pyld keeps a URL's context past this operation only when the loader tags it; a
        # loader here always returns the same document for a URL (see keys.rdfc).
        return super()._cache_resolved_context(key, resolved, tag or "static")


class _BoundedIris(_BoundedCache):
    """``_expand_iri`` results: many small entries (terms, types and IRI values per context)."""

    limit = 20_000


class LoaderState:
    """What is cached per document loader: resolved contexts, pyld options.

    Contexts are pinned, immutable documents, so anything derived from them
    may be shared by every call that uses the same loader. ``lock`` guards
    every use of pyld with the shared caches (pyld's caches are not
    thread-safe); the fast path takes it only when it misses its memos.
    """

    __slots__ = ("loader", "resolved", "pinned", "processed", "iris", "options", "processor", "fast", "lock")

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.lock = RLock()
        self.resolved: _BoundedCache = _BoundedCache()
        self.pinned = _PinnedKeys()
        self.processed: _BoundedCache = _BoundedCache()  # see _SafeModeProcessor._process_context
        self.iris: _BoundedIris = _BoundedIris()  # see _SafeModeProcessor._expand_iri
        self.processor = JsonLdProcessor()
        # base None: relative IRIs stay relative (and are then refused)
        # instead of being resolved against pyld's made-up example.org base.
        self.options = self.call_options()
        self.fast: Any = None  # the fast path's compiled contexts, built lazily

    def call_options(self) -> dict[str, Any]:
        """Fresh pyld options; the resolver's per-operation cache is per call."""
        return {
            "base": None,
            "documentLoader": self.loader,
            "contextResolver": _Resolver(self.resolved, self.loader, self.pinned),
            "processingMode": "json-ld-1.1",
            "extractAllScripts": True,
            "produceGeneralizedRdf": False,
            "isFrame": False,
            "keepFreeFloatingNodes": False,
        }


class _SafeModeProcessor(JsonLdProcessor):
    """pyld's processor with jsonld.js-style safe mode (raise, never drop).

    With ``pinned`` it also enforces the spelling rule (``_rdfc_spelling``):
    every key, type and IRI value written as the pinned contexts write it.
    """

    def __init__(self, pinned: PinnedTerms | None = None, processed: dict[Any, Any] | None = None,
                 iris: dict[Any, Any] | None = None) -> None:
        super().__init__()
        self._paths: dict[int, tuple[Any, ...]] | None = None
        self._stack: list[tuple[Any, ...]] = []
        self._pinned = pinned
        self._processed = processed
        self._iris = iris

    def _expand_iri(self, active_ctx, value, base=None, vocab=False, local_ctx=None, defined=None):
        """pyld's, remembered per loader for finished active contexts (named by their ``_uuid``).

        While a context is being built, pyld passes ``local_ctx``/``defined`` (and
        the context may still change): those calls are never remembered. A finished
        context never changes, so the result depends only on the key below.
        """
        if (self._iris is None or local_ctx is not None or defined is not None or type(value) is not str
                or "_uuid" not in active_ctx):
            return super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)
        key = (active_ctx["_uuid"], value, vocab, base)
        try:
            return self._iris[key]
        except KeyError:
            iri = self._iris[key] = super()._expand_iri(active_ctx, value, base, vocab)
            return iri

    def _process_context(self, active_ctx, local_ctx, options, override_protected=False,
                         propagate=True, validate_scoped=True, cycles=None):
        """pyld's, remembered per loader: the same local context on the same active context.

        pyld caches a processed context by the active context it was applied to,
        but a type-scoped context (which does not propagate) is applied to a fresh
        copy of it every time, so it was processed again at every node. An active
        context's ``_uuid`` names it for good (pyld makes a new one for every
        context it builds), and the loader serves each URL one way, so the result
        depends only on the key below. Calls made while a context is being built
        (``cycles`` given: pyld's check of scoped contexts) are not remembered.
        """
        uuid = active_ctx.get("_uuid")
        resolver = options.get("contextResolver")
        local = resolver.local_key(local_ctx) if isinstance(resolver, _Resolver) else None
        if self._processed is None or cycles is not None or uuid is None or local is None:
            return super()._process_context(active_ctx, local_ctx, options, override_protected,
                                             propagate, validate_scoped, cycles)
        key = (uuid, local, override_protected, propagate, validate_scoped)
        result = self._processed.get(key)
        if result is None:
            result = super()._process_context(active_ctx, local_ctx, options, override_protected,
                                               propagate, validate_scoped, cycles)
            self._processed[key] = result
        return result

    def _expand(self, active_ctx, active_property, element, options, **kwargs):
        if self._paths is None:
            # The first call gets pyld's private deep copy of the document:
            # remember where every object sits, for error messages.
            self._paths = {}
            self._index(element, ())
        return super()._expand(active_ctx, active_property, element, options, **kwargs)

    def _index(self, value: Any, path: tuple[Any, ...]) -> None:
        if isinstance(value, dict):
            self._paths[id(value)] = path  # type: ignore[index]
            for key, item in value.items():
                if key != "@context":
                    self._index(item, path + (key,))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self._index(item, path + (i,))

    def _expand_object(self, active_ctx, active_property, expanded_active_property,
                       element, expanded_parent, options, inside_list=False,
                       type_key=None, type_scoped_ctx=None):
        path = (self._paths or {}).get(id(element), self._stack[-1] if self._stack else ())
        base = options.get("base")
        for key, value in sorted(element.items()):
            if key == "@context":
                continue
            expanded = self._expand_iri(active_ctx, key, vocab=True)
            if expanded is None or not (_is_keyword(expanded) or _is_iri(expanded)) or (
                not _is_keyword(expanded) and expanded.startswith("_:")
            ):
                raise undefined_term(key, format_path(path + (key,)))
            if expanded == "@type" and not isinstance(value, dict):
                values = value if _is_array(value) else [value]
                for i, item in enumerate(values):
                    if not _is_string(item):
                        continue
                    iri = self._expand_iri(type_scoped_ctx, item, vocab=True, base=base)
                    if not (_is_iri(iri) or _is_keyword(iri)):  # "@json" is a type too
                        where = path + (key, i) if _is_array(value) else path + (key,)
                        raise undefined_type(item, format_path(where))
            elif expanded == "@id" and _is_string(value):
                iri = self._expand_iri(active_ctx, value, base=base)
                if not _is_iri(iri):
                    raise relative_iri(value, format_path(path + (key,)))
            elif expanded == "@language" and _is_string(value):
                if not re.match(REGEX_BCP47, value):
                    raise invalid_language(value, format_path(path + (key,)))
        if self._pinned is not None:
            self._check_spelling(active_ctx, active_property, element, type_scoped_ctx, path, base)
        self._stack.append(path)
        try:
            return super()._expand_object(
                active_ctx, active_property, expanded_active_property, element,
                expanded_parent, options, inside_list=inside_list, type_key=type_key,
                type_scoped_ctx=type_scoped_ctx,
            )
        finally:
            self._stack.pop()

    def _expand_value(self, active_ctx, active_property, value, options):
        result = super()._expand_value(active_ctx, active_property, value, options)
        iri = result.get("@id") if isinstance(result, dict) else None
        if iri is not None and not _is_iri(iri):
            parent = self._stack[-1] if self._stack else ()
            raise relative_iri(str(value), format_path(parent + (active_property,)))
        if iri is not None and self._pinned is not None and _is_string(value):
            where = format_path((self._stack[-1] if self._stack else ()) + (active_property,))
            if _get_value(active_ctx, active_property, "@type") == "@vocab":
                self._check_name(active_ctx, value, iri, where)
            elif iri != value:
                raise respelled(value, where, "as a compact IRI; IRIs are written out in full")
        return result

    # -- the spelling rule --------------------------------------------------------------------

    def _check_name(self, ctx, name: str, iri: str, where: str) -> None:
        mapping = ctx["mappings"].get(name)
        problem = (self._pinned.term_problem(name, iri) if mapping is not None
                   else self._pinned.iri_problem(name, iri))
        if problem:
            raise respelled(name, where, problem)

    def _check_spelling(self, active_ctx, active_property, element, type_scoped_ctx, path, base) -> None:
        expanded = {key: self._expand_iri(active_ctx, key, vocab=True) for key in element if key != "@context"}
        is_value = "@value" in expanded.values()
        for key, iri in expanded.items():
            where = format_path(path + (key,))
            mapping = active_ctx["mappings"].get(key)
            if key.startswith("@"):
                if is_value and key in _VALUE_KEYWORDS:
                    continue
                if key == "@list" and "@list" not in (_get_value(active_ctx, active_property, "@container") or ()):
                    continue  # a real RDF list, not a re-spelled array
                if key in ("@id", "@type"):
                    alias = active_ctx["mappings"].get(key[1:])
                    if alias is not None and alias.get("@id") == key:
                        raise respelled(key, where, f"where its contexts say '{key[1:]}'")
                    continue
                raise respelled(key, where, "a JSON-LD keyword that re-shapes the graph (written plainly, "
                                            "the credential needs none)")
            if mapping is not None:
                if mapping.get("reverse"):
                    raise respelled(key, where, "a reverse property (the node is described from the outside)")
                if "@nest" in mapping:
                    raise respelled(key, where, "a nested property (@nest)")
            self._check_name(active_ctx, key, iri, where)
            value = element[key]
            if iri == "@type" and not is_value:
                for i, name in enumerate(value if _is_array(value) else [value]):
                    if _is_string(name):
                        type_iri = self._expand_iri(type_scoped_ctx, name, vocab=True, base=base)
                        at = format_path(path + ((key, i) if _is_array(value) else (key,)))
                        self._check_name(type_scoped_ctx, name, type_iri, at)
            elif iri == "@id" and _is_string(value) and not is_value:
                full = self._expand_iri(active_ctx, value, base=base)
                if full != value:
                    raise respelled(value, where, "as a compact IRI; IRIs are written out in full")
        if is_value:
            self._check_value_object(active_ctx, active_property, element, expanded, path)

    def _check_value_object(self, active_ctx, active_property, element, expanded, path) -> None:
        """A value object is allowed only where a plain value could not say the same."""
        given = {iri: element[key] for key, iri in expanded.items()}
        if "@language" in given or "@direction" in given:
            return
        coerced = _get_value(active_ctx, active_property, "@type")
        plain = given.get("@value")
        where = format_path(path + ("@value",))
        if "@type" in given:
            datatype = self._expand_iri(active_ctx, given["@type"], vocab=True) if _is_string(given["@type"]) else None
            if datatype == coerced or (coerced in (None, "@none") and datatype == XSD_STRING and _is_string(plain)):
                raise respelled("@value", where, "as a value object where its contexts give the plain value "
                                                 "the same meaning")
        elif coerced in (None, "@none") and not (_is_string(plain) and active_ctx.get("@language")):
            raise respelled("@value", where, "as a value object where its contexts give the plain value "
                                             "the same meaning")


def _term(component: dict[str, Any]) -> str:
    if component["type"] == "IRI":
        return "<" + component["value"] + ">"
    if component["type"] == "blank node":
        return component["value"]
    # literal: exactly pyld.nquads.serialize_nquad
    out = '"' + escape(component["value"]) + '"'
    datatype = component["datatype"]
    if datatype == RDF_LANGSTRING:
        if component.get("language"):
            out += "@" + component["language"]
    elif datatype != XSD_STRING:
        out += "^^<" + datatype + ">"
    return out


def quads_via_pyld(document: dict[str, Any], state: LoaderState, pinned: PinnedTerms | None = None) -> list[Quad]:
    """The document's RDF dataset as quads, computed by pyld in safe mode.

    With ``pinned``, the spelling rule applies too. Raises pyld's
    ``JsonLdError`` (the caller maps it) or our CredentialError.
    """
    processor = _SafeModeProcessor(pinned, state.processed, state.iris)
    with state.lock:
        dataset = processor.to_rdf(document, state.call_options())
    quads: list[Quad] = []
    for graph_name, triples in dataset.items():
        if graph_name == "@default":
            g = None
        elif graph_name.startswith("_:"):
            g = graph_name
        else:
            g = "<" + graph_name + ">"
        for triple in triples:
            quads.append((
                _term(triple["subject"]),
                _term(triple["predicate"]),
                _term(triple["object"]),
                g,
            ))
    return quads


__all__ = ["JsonLdError", "LoaderState", "Quad", "format_path", "quads_via_pyld",
           "relative_iri", "undefined_term", "undefined_type"]
