"""Fast JSON-LD → RDF quads for the credential shapes we sign. Private.

pyld spends most of a canonicalization re-deriving the same facts for every
credential: processing type- and property-scoped contexts, expanding the same
terms, building an expanded document and then a node map, all as dicts. This
module walks the document once and emits quads directly, mirroring pyld's
``_expand`` / ``_expand_object`` / ``_expand_value`` / ``_create_node_map`` /
``_object_to_rdf`` step for step, but with every context-derived fact
(processed scoped contexts, IRI expansion of each term and type) computed once
per loader through pyld's own functions and memoised.

It handles: ``@context`` given as URL strings, at the top and on embedded
nodes (credentials embedded in a CLR carry their own); node objects with
``id``/``type`` aliases and properties whose container is none, ``@set`` or
``@graph`` (a ``proof`` is a named graph: credentials embedded with their
proofs are the common case in a transcript); type coercion to ``@id``,
``@vocab`` or a datatype; strings, numbers, booleans, ``null`` and nested
arrays. Anything else (inline context objects, ``@list``/language/index
containers, value objects, explicit blank-node ids, ``@json``, default
languages, reverse properties, any other keyword) raises ``Unsupported`` and
the caller uses pyld instead. The safe-mode
checks are the same as the pyld path's and raise the same errors.
"""

from __future__ import annotations

from typing import Any

from pyld.jsonld import (
    XSD_BOOLEAN,
    XSD_DOUBLE,
    XSD_INTEGER,
    JsonLdProcessor,
    _canonicalize_double,
    _is_absolute_iri,
    _is_double,
    _is_integer,
    _is_keyword,
)
from keys._rdfc_escape import escape_literal as escape

from keys._rdfc_pyld import (
    XSD_STRING,
    LoaderState,
    Quad,
    format_path,
    relative_iri,
    undefined_term,
    undefined_type,
)

_RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
_get = JsonLdProcessor.get_context_value
_MAX_CONTEXTS = 4_000
_MAX_MEMO = 2_000
_UNDEFINED, _ID, _TYPE, _KEYWORD, _PROPERTY = range(5)


_ABSOLUTE: dict[Any, bool] = {}


def _is_absolute(iri: Any) -> bool:
    """pyld's ``_is_absolute_iri`` (a regular expression match), remembered: the same IRIs recur in
    every credential. Bounded, since documents bring their own."""
    found = _ABSOLUTE.get(iri)
    if found is None:
        found = bool(_is_absolute_iri(iri))
        if len(_ABSOLUTE) > 8 * _MAX_MEMO:
            _ABSOLUTE.clear()
        _ABSOLUTE[iri] = found
    return found


# (datatype, "s", text) -> the literal's N-Quads token: names and descriptions recur in every
# credential of a batch. Only short texts, so that documents cannot fill the memory.
_STRING_TOKENS: dict[tuple[Any, str, str], str] = {}
_MAX_TOKEN_TEXT = 200
_DOUBLES: dict[Any, str] = {}


def _double(value: float) -> str:
    """pyld's ``_canonicalize_double`` (a float format and a regular-expression substitution),
    remembered: credits and scores repeat. Zero is not remembered, since -0.0 == 0.0 as a key."""
    found = _DOUBLES.get(value)
    if found is None:
        found = _canonicalize_double(value)
        if value:
            if len(_DOUBLES) > _MAX_MEMO:
                _DOUBLES.clear()
            _DOUBLES[value] = found
    return found


class Unsupported(Exception):
    """The document uses JSON-LD this path leaves to pyld."""


class TooDeep(Exception):
    """The document nests deeper than the limit (checked on the way down)."""


class _Ctx:
    """A pyld active context with memoised lookups derived from it."""

    __slots__ = ("ctx", "vocab_iri", "base_iri", "keys", "derived", "terms", "prev", "locals", "plans")

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.vocab_iri: dict[str, Any] = {}
        self.base_iri: dict[str, Any] = {}
        self.keys: dict[str, tuple[Any, int]] = {}
        self.derived: dict[tuple[int, bool, bool], tuple[Any, _Ctx]] = {}
        self.terms: dict[str, _Term] = {}
        self.prev: _Ctx | None = None
        # embedded @context (URL tuple) -> the context it makes on this one
        self.locals: dict[tuple[str, ...], _Ctx] = {}
        # the node objects met in this context: (property, keys, @context) -> _Shape
        self.plans: dict[Any, _Shape] = {}


class _Term:
    """How values of one property key expand under one active context."""

    __slots__ = ("scoped", "term_ctx", "coerce", "predicate", "graph")

    def __init__(self, scoped: Any, coerce: Any, predicate: str, graph: bool = False) -> None:
        self.scoped = scoped
        self.term_ctx: _Ctx | None = None
        self.coerce = coerce
        self.predicate = predicate
        self.graph = graph  # @container @graph: each value is its own named graph


class _Shape:
    """What a node object's keys (and ``@context``) decide, before its types are known."""

    __slots__ = ("ctx", "keys", "type_keys", "by_types")

    def __init__(self, ctx: _Ctx, keys: list[str], type_keys: tuple[str, ...]) -> None:
        self.ctx = ctx  # the context after reverting, property-scoped and embedded contexts
        self.keys = keys  # sorted
        self.type_keys = type_keys
        self.by_types: dict[Any, _Plan] = {}


class _Plan:
    """What a node object's keys and type values decide: its context and one step per key.

    A step is ``(kind, key, expanded, types)``; kinds other than ``_PROPERTY``/``_ID``/``_TYPE``
    are errors raised when the walk reaches that key, in key order, as the unplanned walk did.
    ``types`` is the list of type IRIs, or ``(name, index)`` of an undefined type, or ``None``
    when the walk must step aside.
    """

    __slots__ = ("ctx", "steps", "remember", "clean", "id_key", "types", "props")

    def __init__(self, ctx: _Ctx, steps: list[tuple[int, str, Any, Any]]) -> None:
        self.ctx = ctx
        self.steps = steps
        ids = [key for kind, key, _expanded, _iris in steps if kind == _ID]
        # clean: no step can fail but the id's, so the walk needs no step-by-step pass
        self.clean = len(ids) <= 1 and all(
            kind in (_PROPERTY, _ID) or (kind == _TYPE and isinstance(iris, list))
            for kind, _key, _expanded, iris in steps)
        self.id_key = ids[0] if ids else None
        self.types = [iri for kind, _key, _expanded, iris in steps if kind == _TYPE and isinstance(iris, list)
                      for iri in iris]
        self.props = [(key, expanded) for kind, key, expanded, _iris in steps if kind == _PROPERTY]
        # every key and type is a pinned term, and no list of types is long
        self.remember = len(steps) <= _MAX_PLANNED_KEYS and all(
            kind in (_PROPERTY, _ID) or (kind == _TYPE and isinstance(iris, list) and len(iris) <= 16)
            for kind, _key, _expanded, iris in steps)


_STEP_ASIDE = -1  # a step that raises Unsupported
_MAX_PLANNED_KEYS = 64  # keys of a node whose plan is remembered; credentials' nodes have a dozen


def _memo_key(value: Any) -> Any:
    """A hashable stand-in for a JSON value that decides a plan (strings, lists of strings)."""
    if isinstance(value, list):
        return tuple(value)
    return value if value is None or isinstance(value, str) else _Unplannable


class _Unplannable:
    """Stands for a value no plan is remembered for (it is never equal to a real key part)."""


class _Compiled:
    """Per-loader registry of wrapped contexts (lives in ``LoaderState.fast``)."""

    __slots__ = ("state", "processor", "wrapped", "top", "plans")

    def __init__(self, state: LoaderState) -> None:
        self.state = state
        self.processor = state.processor
        self.wrapped: dict[int, _Ctx] = {}
        self.top: dict[tuple[str, ...], _Ctx] = {}
        self.plans: dict[Any, _Shape] = {}  # top-level documents' shapes (see _Ctx.plans)

    def wrap(self, ctx: Any) -> _Ctx:
        found = self.wrapped.get(id(ctx))
        if found is not None and found.ctx is ctx:
            return found
        if len(self.wrapped) > _MAX_CONTEXTS:
            # Hostile documents could combine scoped contexts endlessly.
            self.wrapped.clear()
            self.top.clear()
        found = self.wrapped[id(ctx)] = _Ctx(ctx)
        return found

    def vocab(self, c: _Ctx, value: str) -> Any:
        try:
            return c.vocab_iri[value]
        except KeyError:
            iri = self.processor._expand_iri(c.ctx, value, vocab=True)
            if len(c.vocab_iri) > _MAX_MEMO:  # values come from documents: stay bounded
                c.vocab_iri.clear()
            c.vocab_iri[value] = iri
            return iri

    def based(self, c: _Ctx, value: str) -> Any:
        # pyld (base=None, no @vocab) returns the value itself unless it looks like a keyword or
        # starts with a prefix term ("xsd:…") and no "//": most ids, each seen once, so they are
        # neither passed to it nor remembered.
        if value[:1] != "@":
            colon = value.find(":")
            if colon <= 0 or value.startswith("//", colon + 1) or not c.ctx["mappings"].get(value[:colon]):
                return value
        try:
            return c.base_iri[value]
        except KeyError:
            iri = self.processor._expand_iri(c.ctx, value, base=None)
            if len(c.base_iri) > _MAX_MEMO:
                c.base_iri.clear()
            c.base_iri[value] = iri
            return iri

    def classify(self, c: _Ctx, key: str) -> tuple[Any, int]:
        """A key's expansion and kind (_ID, _TYPE, _KEYWORD, _PROPERTY, _UNDEFINED)."""
        try:
            return c.keys[key]
        except KeyError:
            expanded = self.vocab(c, key)
            if expanded is None:
                kind = _UNDEFINED
            elif _is_keyword(expanded):
                kind = _ID if expanded == "@id" else _TYPE if expanded == "@type" else _KEYWORD
            elif not _is_absolute(expanded) or expanded.startswith("_:"):
                kind = _UNDEFINED
            else:
                kind = _PROPERTY
            if len(c.keys) > _MAX_MEMO:
                c.keys.clear()
            found = c.keys[key] = (expanded, kind)
            return found

    def derive(self, c: _Ctx, local: Any, *, propagate: bool, override: bool) -> _Ctx:
        key = (id(local), propagate, override)
        hit = c.derived.get(key)
        if hit is not None and hit[0] is local:
            return hit[1]
        with self.state.lock:
            ctx = self.processor._process_context(
                c.ctx, local, self.state.options, override_protected=override, propagate=propagate
            )
            derived = self.wrap(ctx)
        c.derived[key] = (local, derived)
        return derived

    def previous(self, c: _Ctx) -> _Ctx:
        prev = c.ctx.get("previousContext")
        if prev is None:
            return c
        if c.prev is None or c.prev.ctx is not prev:
            with self.state.lock:
                c.prev = self.wrap(prev)
        return c.prev

    def top_context(self, local: Any) -> _Ctx:
        key = _url_key(local)
        found = self.top.get(key)
        if found is None:
            with self.state.lock:
                initial = self.processor._get_initial_context(self.state.options)
                ctx = self.processor._process_context(initial, list(key), self.state.options)
                found = self.top[key] = self.wrap(ctx)
        return found

    def local_context(self, c: _Ctx, local: Any) -> _Ctx:
        """An embedded node's own ``@context`` (URLs only) applied on ``c`` (pyld
        ``_prepare_nested_context``), memoised per URL tuple: every credential
        in a transcript repeats the same few."""
        key = _url_key(local)
        found = c.locals.get(key)
        if found is None:
            with self.state.lock:
                ctx = self.processor._process_context(c.ctx, list(key), self.state.options)
                found = self.wrap(ctx)
            if len(c.locals) > _MAX_MEMO:
                c.locals.clear()
            c.locals[key] = found
        return found

    def term(self, c: _Ctx, key: str, expanded: str) -> _Term:
        found = c.terms.get(key)
        if found is not None:
            return found
        ctx = c.ctx
        container = _get(ctx, key, "@container")
        graph = False
        if container in ("@graph", ["@graph"]):
            graph = True
        elif container is not None and container not in ("@set", ["@set"]):
            raise Unsupported
        mapping = ctx["mappings"].get(key)
        if mapping is not None and (mapping.get("reverse") or "@nest" in mapping):
            raise Unsupported
        if _get(ctx, key, "@type") == "@json":
            raise Unsupported
        found = c.terms[key] = _Term(_get(ctx, key, "@context"), None, "<" + expanded + ">", graph)
        return found

    def term_context(self, c: _Ctx, term: _Term, key: str, expanded: str) -> _Ctx:
        """The context values of ``key`` expand in, with what they coerce to."""
        if term.term_ctx is not None:
            return term.term_ctx
        tc = c
        if term.scoped is not None:
            tc = self.derive(c, term.scoped, propagate=True, override=True)
        tctx = tc.ctx
        mapping = tctx["mappings"].get(key)
        if mapping is not None and mapping.get("reverse"):
            raise Unsupported
        # _expand_value re-expands the key in the term's context; a scoped
        # context that redefines it is too unusual to mirror.
        if self.vocab(tc, key) != expanded:
            raise Unsupported
        coerce = _get(tctx, key, "@type")
        if coerce == "@json":
            raise Unsupported
        if coerce in (None, "@none") and (
            _get(tctx, key, "@language") is not None or _get(tctx, key, "@direction") is not None
        ):
            raise Unsupported
        term.coerce = coerce
        term.term_ctx = tc
        return tc


class _Walk:
    """One document's walk: a node map of subject → predicate → objects."""

    __slots__ = ("comp", "nodes", "graphs", "bnodes", "max_depth")

    def __init__(self, comp: _Compiled, max_depth: int) -> None:
        self.comp = comp
        # JSON depth of a container = len(its path) + 1
        self.max_depth = max_depth
        # subject token → predicate token → {compare key: object token};
        # the compare keys reproduce pyld's duplicate test (compare_values).
        self.nodes: dict[str, dict[str, dict[Any, str]]] = {}
        # graph name (None: the default graph) → its node map; ``nodes`` is
        # the active graph's, swapped while walking into a named graph
        self.graphs: dict[str | None, dict[str, dict[str, dict[Any, str]]]] = {None: self.nodes}
        self.bnodes = 0

    def node(self, c: _Ctx, active_property: str | None, element: dict[str, Any],
             path: tuple[Any, ...]) -> str:
        """Mirror of pyld ``_expand`` (object case) + ``_create_node_map``; the subject token."""
        comp = self.comp
        if len(path) >= self.max_depth:
            raise TooDeep
        plan = self.plan(c, active_property, element)
        c = plan.ctx

        # first pass: every key and type must be defined (safe mode)
        node_id = None
        if plan.clean:
            if plan.id_key is not None:
                node_id = self.subject_id(c, element, plan.id_key, path)
            types = plan.types
            props = plan.props
        else:
            node_id, types, props = self.checked_steps(plan, element, path)

        if node_id is None:
            subject = f"_:b{self.bnodes}"
            self.bnodes += 1
        else:
            subject = "<" + node_id + ">"
        preds = self.nodes.get(subject)
        if preds is None:
            preds = self.nodes[subject] = {}
        if types:
            bucket = preds.setdefault("@type", {})
            for iri in types:
                bucket.setdefault(iri, "<" + iri + ">")

        # second pass: values
        for key, expanded in props:
            term = comp.term(c, key, expanded)
            out: dict[Any, str] = {}
            self.values(c, term, key, expanded, element[key], path + (key,), path + (key,), out)
            if out:
                bucket = preds.get(term.predicate)
                if bucket is None:
                    preds[term.predicate] = out
                else:
                    for k, token in out.items():
                        bucket.setdefault(k, token)
        return subject

    def subject_id(self, c: _Ctx, element: dict[str, Any], key: str, path: tuple[Any, ...]) -> str:
        """The node's id (written out in full: anything else is pyld's to judge)."""
        value = element[key]
        if not isinstance(value, str):
            raise Unsupported
        iri = self.comp.based(c, value)
        if not _is_absolute(iri):
            raise relative_iri(value, format_path(path + (key,)))
        if iri.startswith("_:") or iri != value:
            raise Unsupported
        return iri

    def checked_steps(self, plan: _Plan, element: dict[str, Any],
                      path: tuple[Any, ...]) -> tuple[str | None, list[str], list[tuple[str, str]]]:
        """The first pass step by step, raising each key's error where the walk reaches it."""
        c = plan.ctx
        node_id = None
        types: list[str] = []
        props: list[tuple[str, str]] = []
        for kind, key, expanded, type_iris in plan.steps:
            if kind == _PROPERTY:
                props.append((key, expanded))
            elif kind == _ID:
                if node_id is not None:
                    raise Unsupported
                node_id = self.subject_id(c, element, key, path)
            elif kind == _TYPE:
                if type_iris is None:
                    raise Unsupported
                if isinstance(type_iris, tuple):
                    name, index = type_iris
                    raise undefined_type(name, format_path(path + (key,) if index is None else path + (key, index)))
                types.extend(type_iris)
            elif kind == _UNDEFINED:
                raise undefined_term(key, format_path(path + (key,)))
            else:
                raise Unsupported
        return node_id, types, props

    def plan(self, c: _Ctx | None, active_property: str | None, element: dict[str, Any]) -> _Plan:
        """The node's plan, remembered by its keys, ``@context`` and type values (shapes repeat).

        Only plans whose every key and type is a term of the pinned contexts are remembered (a
        bounded vocabulary): hostile documents full of made-up keys cannot fill the memory.
        """
        plans = self.comp.plans if c is None else c.plans
        try:
            shape_key: Any = (active_property, tuple(element), _memo_key(element.get("@context")))
            shape = plans.get(shape_key)
        except TypeError:  # an unhashable @context: planned, not remembered
            shape_key, shape = None, None
        known = shape is not None
        if shape is None:
            shape = self.shape(c, active_property, element)
        type_keys = shape.type_keys
        # one type key is the rule; a shape always has the same number of them
        types_key: Any = _memo_key(element[type_keys[0]]) if len(type_keys) == 1 else tuple(
            _memo_key(element[k]) for k in type_keys)
        try:
            plan = shape.by_types.get(types_key)
        except TypeError:  # a list of types holding objects
            plan, types_key = None, None
        if plan is None:
            plan = self.steps(shape, element)
            if plan.remember and types_key is not None and _Unplannable is not types_key and (
                    not isinstance(types_key, tuple) or _Unplannable not in types_key):
                if len(shape.by_types) > _MAX_MEMO:
                    shape.by_types.clear()
                shape.by_types[types_key] = plan
                if not known and shape_key is not None and _Unplannable not in shape_key:
                    if len(plans) > _MAX_MEMO:
                        plans.clear()
                    plans[shape_key] = shape
        return plan

    def shape(self, c: _Ctx | None, active_property: str | None, element: dict[str, Any]) -> _Shape:
        """The context a node's keys put it in (mirror of pyld ``_expand``, object case)."""
        comp = self.comp
        if active_property is None or c is None:
            # pyld: the document's own @context, processed on the initial one
            c = comp.top_context(element["@context"])
        else:
            local = element.get("@context")
            scoped = _get(c.ctx, active_property, "@context")
            # type-scoped contexts stop at node boundaries, except for a
            # bare reference {"id": ...} (pyld _expand, "must_revert")
            must_revert = True
            if c.ctx.get("previousContext") and len(element) <= 2 and "@context" not in element:
                for key in sorted(element):
                    expanded = comp.vocab(c, key)
                    if expanded == "@value":
                        raise Unsupported
                    if expanded == "@id" and len(element) == 1:
                        must_revert = False
                        break
            if must_revert:
                c = comp.previous(c)
            if scoped is not None:
                c = comp.derive(c, scoped, propagate=True, override=True)
            if "@context" in element:
                c = comp.local_context(c, local)
        keys = sorted(element)
        type_keys = tuple(key for key in keys if comp.classify(c, key)[1] == _TYPE)
        return _Shape(c, keys, type_keys)

    def steps(self, shape: _Shape, element: dict[str, Any]) -> _Plan:
        """Type-scoped contexts (pyld ``_prepare_nested_context``), then one step per key."""
        comp = self.comp
        type_ctx = c = shape.ctx
        for key in shape.type_keys:
            value = element[key]
            names = [value] if isinstance(value, str) else value
            if not isinstance(names, list):
                raise Unsupported
            for name in sorted(t for t in names if isinstance(t, str)):
                scoped = _get(type_ctx.ctx, name, "@context")
                if scoped is not None and scoped is not False:
                    c = comp.derive(c, scoped, propagate=False, override=False)
        steps: list[tuple[int, str, Any, Any]] = []
        for key in shape.keys:
            if key == "@context":
                continue
            expanded, kind = comp.classify(c, key)
            if kind == _PROPERTY:
                if key not in c.ctx["mappings"]:
                    kind = _STEP_ASIDE  # an IRI or @vocab key: the spelling rule is pyld's to check
            elif kind == _UNDEFINED:
                pass
            elif key.startswith("@"):
                kind = _STEP_ASIDE  # a bare keyword: re-spelled, refused on the pyld path
            elif kind == _TYPE:
                steps.append((kind, key, expanded, self.type_iris(type_ctx, element[key])))
                continue
            elif kind != _ID:
                kind = _STEP_ASIDE
            steps.append((kind, key, expanded, None))
        return _Plan(c, steps)

    def type_iris(self, type_ctx: _Ctx, value: Any) -> Any:
        """A type value's IRIs; ``(name, index)`` for an undefined type; ``None``: step aside."""
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list):
            return None
        iris = []
        for i, name in enumerate(names):
            if not isinstance(name, str):
                return None
            iri = self.comp.vocab(type_ctx, name)
            if _is_keyword(iri):
                return None
            if not _is_absolute(iri):
                return (name, i if names is value else None)
            if name not in type_ctx.ctx["mappings"]:
                return None  # an IRI where a term may exist: the spelling rule is pyld's
            if iri.startswith("_:"):
                return None
            iris.append(iri)
        return iris

    def values(self, c: _Ctx, term: _Term, key: str, expanded: str, value: Any,
               path: tuple[Any, ...], prop_path: tuple[Any, ...], out: dict[Any, str]) -> None:
        if value is None:
            return
        if isinstance(value, list):
            if len(path) >= self.max_depth:
                raise TooDeep
            for i, item in enumerate(value):
                self.values(c, term, key, expanded, item, path + (i,), prop_path, out)
            return
        tc = term.term_ctx
        if tc is None:
            tc = self.comp.term_context(c, term, key, expanded)
        if term.graph:
            if not isinstance(value, dict):
                raise Unsupported  # a bare IRI as a graph: too unusual to mirror
            # pyld wraps each value as {"@graph": [value]}: a fresh blank node
            # names the graph, the property points at it, and the value's
            # nodes (all of them, however deep) live in that graph.
            name = f"_:b{self.bnodes}"
            self.bnodes += 1
            outer = self.nodes
            self.nodes = self.graphs[name] = {}
            try:
                self.node(tc, key, value, path)
            finally:
                self.nodes = outer
            out.setdefault(name, name)
            return
        if isinstance(value, dict):
            token = self.node(tc, key, value, path)
            out.setdefault(token, token)
            return
        coerce = term.coerce
        if isinstance(value, str) and (coerce == "@id" or coerce == "@vocab"):
            iri = self.comp.based(tc, value) if coerce == "@id" else self.comp.vocab(tc, value)
            if iri is None or iri.startswith("_:"):
                raise Unsupported
            if (iri != value) if coerce == "@id" else (value not in tc.ctx["mappings"]):
                raise Unsupported  # a compact IRI, or an IRI where a term exists: pyld's to judge
            if not _is_absolute(iri):
                raise relative_iri(value, format_path(prop_path))
            token = "<" + iri + ">"
            out.setdefault(token, token)
            return
        datatype = coerce if coerce not in (None, "@id", "@vocab", "@none") else None
        # the compare key mirrors pyld's compare_values: same @type and an
        # equal @value, where booleans never equal numbers
        if isinstance(value, str):
            compare = (datatype, "s", value)
            token = _STRING_TOKENS.get(compare)
            if token is None:
                if datatype == XSD_DOUBLE:
                    raise Unsupported  # pyld's string → double conversion, left to pyld
                if datatype is None or datatype == XSD_STRING:
                    token = '"' + escape(value) + '"'
                else:
                    token = '"' + escape(value) + '"^^<' + datatype + ">"
                if len(value) <= _MAX_TOKEN_TEXT:
                    if len(_STRING_TOKENS) > _MAX_MEMO:
                        _STRING_TOKENS.clear()
                    _STRING_TOKENS[compare] = token
            out.setdefault(compare, token)
            return
        if isinstance(value, bool):
            lexical = "true" if value else "false"
            dt = datatype or XSD_BOOLEAN
            compare = (datatype, "b", value)
        elif isinstance(value, (int, float)):
            compare = (datatype, "n", value)
            if _is_double(value):
                lexical = _double(value)
                dt = datatype or XSD_DOUBLE
            elif datatype == XSD_DOUBLE:
                lexical = _double(float(value))
                dt = XSD_DOUBLE
            elif _is_integer(value) and abs(value) >= 1e21:
                lexical = _double(value)
                dt = datatype or XSD_DOUBLE
            else:
                lexical = str(int(value))
                dt = datatype or XSD_INTEGER
        else:
            raise Unsupported
        if dt == XSD_STRING:
            token = '"' + escape(lexical) + '"'
        else:
            token = '"' + escape(lexical) + '"^^<' + dt + ">"
        out.setdefault(compare, token)

    def quads(self) -> list[Quad]:
        quads: list[Quad] = []
        append = quads.append
        for graph, nodes in self.graphs.items():
            for subject, preds in nodes.items():
                for predicate, objects in preds.items():
                    if predicate == "@type":
                        predicate = _RDF_TYPE
                    for token in objects.values():
                        append((subject, predicate, token, graph))
        return quads


def _url_key(local: Any) -> tuple[str, ...]:
    """A ``@context`` of URL strings as a memo key; anything else is left to pyld."""
    if isinstance(local, str):
        return (local,)
    if isinstance(local, list) and local and all(isinstance(u, str) for u in local):
        return tuple(local)
    raise Unsupported


def quads_fast(document: dict[str, Any], state: LoaderState, max_depth: int) -> list[Quad]:
    """The document's RDF dataset as quads, or ``Unsupported``.

    Raises the same safe-mode errors as the pyld path; pyld errors from
    context processing propagate as pyld raised them; ``TooDeep`` when
    containers nest deeper than ``max_depth``.
    """
    comp = state.fast
    if comp is None:
        comp = state.fast = _Compiled(state)
    if "@context" not in document:
        raise Unsupported
    walk = _Walk(comp, max_depth)
    walk.node(None, None, document, ())  # type: ignore[arg-type]
    return walk.quads()
