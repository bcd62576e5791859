"""JSON-LD → canonical N-Quads (RDFC-1.0 / URDNA2015), in JSON-LD safe mode.

``canonicalize(document, loader=...)`` returns exactly what pyld's
``jsonld.normalize(document, {"algorithm": "URDNA2015", "format":
"application/n-quads", "documentLoader": loader, "base": None})`` returns, for
every document pyld accepts in safe mode, and raises ``CredentialError``
otherwise. It is the hashing input of ``eddsa-rdfc-2022``.

How it is put together (private modules beside this one):

- ``_rdfc_fast``: JSON-LD expansion + RDF conversion for the common credential
  shapes, straight to quads, over contexts compiled once per loader. Anything
  unusual (inline contexts, ``@graph``, ``@list``, language maps, value
  objects, explicit blank-node ids, …) makes it step aside.
- ``_rdfc_pyld``: pyld itself, with safe-mode checks hooked into its
  expansion and per-loader context caches; used whenever the fast path steps
  aside.
- ``_rdfc_canon``: RDFC-1.0 blank-node labelling over pre-serialised quads,
  with a work budget.

Safe mode (as jsonld.js ``safeMode: true``): a key that no context defines, a
``type`` that no context defines, or a relative IRI would be silently dropped
by JSON-LD and so left unsigned; here they are errors (``UNDEFINED_TERM``,
``JSONLD_INVALID``). A document with nothing to sign is ``JSONLD_INVALID``.

Caches are process-wide and keyed by the loader object: pinned contexts are
immutable, so what is derived from them never goes stale. A loader must
therefore always return the same document for the same URL.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock
from typing import Any, Callable

from errors import BadgesmithError, Code, CredentialError, InputTooLarge
from keys._rdfc_canon import canonize_quads
from keys._rdfc_fast import TooDeep, Unsupported, quads_fast
from keys._rdfc_pyld import JsonLdError, LoaderState, quads_via_pyld
from keys._rdfc_spelling import check_shape, pinned_terms

Loader = Callable[..., dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Limits:
    """Ceilings that keep canonicalization of hostile input cheap.

    ``max_bytes`` is measured on the compact UTF-8 JSON serialisation, before
    any JSON-LD work. ``max_hash_work`` counts N-degree hash calls plus the
    permutations they try; credentials whose blank nodes all differ need none.
    """

    max_bytes: int = 1_000_000
    max_depth: int = 64
    max_blank_nodes: int = 1_000
    max_hash_work: int = 5_000
    max_context_entries: int = 32
    """Entries of any one ``@context`` list: each clones the active context, so thousands cost
    seconds (quadratic); credentials in circulation list at most a handful."""
    max_list_items: int = 1_000
    """Items of any one JSON list: pyld compares each new value with those already under the
    property (quadratic), so 5,000 tags took 13 s; a transcript embeds at most 500 credentials."""


DEFAULT_LIMITS = Limits()

_STATES: OrderedDict[int, LoaderState] = OrderedDict()
_STATES_LOCK = Lock()
_MAX_STATES = 32


def _state_for(loader: Loader) -> LoaderState:
    # Keyed by id(); the state holds the loader, so the id cannot be reused
    # while the entry lives. Bounded: tests make many throw-away loaders.
    key = id(loader)
    state = _STATES.get(key)
    if state is not None and state.loader is loader:
        return state
    with _STATES_LOCK:
        state = LoaderState(loader)
        _STATES[key] = state
        while len(_STATES) > _MAX_STATES:
            _STATES.popitem(last=False)
    return state


# json.dumps with these options, built once (dumps builds an encoder per call when given options).
_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _check_size(document: Any, limits: Limits) -> None:
    if not isinstance(document, dict):
        raise CredentialError(
            Code.JSON_NOT_OBJECT,
            "Only a JSON object can be canonicalized; this is a "
            f"{type(document).__name__}.",
        )
    try:
        size = len(_COMPACT_JSON.encode(document).encode("utf-8"))
    except RecursionError:
        raise _too_deep(limits) from None
    except (TypeError, ValueError) as exc:
        raise CredentialError(
            Code.JSONLD_INVALID,
            "The credential holds a value that is not JSON (such as NaN, "
            "Infinity or a non-string key), so it cannot be canonicalized.",
        ) from exc
    if size > limits.max_bytes:
        raise InputTooLarge(
            Code.INPUT_TOO_LARGE,
            f"The credential is {size} bytes of JSON, more than the "
            f"{limits.max_bytes} Badgesmith canonicalizes.",
            size=size,
            limit=limits.max_bytes,
        )


def _check_depth(document: dict[str, Any], limits: Limits) -> None:
    # Iterative, so depth itself cannot exhaust the stack. (The fast path
    # checks depth on its way down, so this runs only before pyld.)
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limits.max_depth:
            raise _too_deep(limits)
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values() if isinstance(v, (dict, list)))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value if isinstance(v, (dict, list)))


def _too_deep(limits: Limits) -> InputTooLarge:
    return InputTooLarge(
        Code.JSON_TOO_DEEP,
        f"The credential nests objects and arrays more than {limits.max_depth} "
        "levels deep, more than Badgesmith canonicalizes.",
        limit=limits.max_depth,
    )


def _jsonld_invalid(exc: BaseException) -> BadgesmithError:
    """Map a pyld failure: a loader's own error comes out unchanged."""
    innermost: JsonLdError | None = None
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, BadgesmithError):
            return cause
        if isinstance(cause, JsonLdError):
            innermost = cause
        cause = cause.__cause__ or cause.__context__
    if innermost is not None:
        text = str(innermost.args[0]) if innermost.args else "unknown problem"
        reason = text.replace("Invalid JSON-LD syntax; ", "").strip().rstrip(".")
        code = getattr(innermost, "code", None)
        return CredentialError(
            Code.JSONLD_INVALID,
            f"The credential is not valid JSON-LD: {reason}.",
            **({"jsonld_code": str(code)} if code else {}),
        )
    return CredentialError(
        Code.JSONLD_INVALID,
        "The credential could not be read as JSON-LD "
        f"({type(exc).__name__}); check its structure against the OB 3.0 examples.",
    )


def _too_many_contexts(count: int, limits: Limits) -> CredentialError:
    return CredentialError(
        Code.CANONICALIZATION_LIMIT,
        f"An @context lists {count} contexts; at most {limits.max_context_entries} are processed.",
        limit=limits.max_context_entries)


def _check_context_lists(document: Any, limits: Limits) -> None:
    # Iterative: the size check has bounded the document, and nesting is checked later.
    pending = [document]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            context = node.get("@context")
            if isinstance(context, list) and len(context) > limits.max_context_entries:
                raise _too_many_contexts(len(context), limits)
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)


def canonicalize(document: dict[str, Any], *, loader: Loader,
                 limits: Limits = DEFAULT_LIMITS, spelling: bool = True) -> str:
    """The RDFC-1.0 canonical N-Quads of a JSON-LD ``document``.

    ``loader`` is a pyld document loader (``loader(url, options)``); it is
    the only way contexts are obtained. Raises ``InputTooLarge`` (size,
    depth), ``CredentialError`` with ``UNDEFINED_TERM`` / ``JSONLD_INVALID``
    (safe mode, bad JSON-LD), ``CANONICALIZATION_LIMIT`` (blank nodes, hash
    work), or the loader's own error (e.g. ``CONTEXT_NOT_ALLOWED``) unchanged.

    With ``spelling`` (the default, and what every credential gets) the JSON
    must also spell its graph the way its pinned contexts do, else
    ``JSON_RESPELLED`` (``_rdfc_spelling``); only tests of the algorithm itself
    turn it off.
    """
    _check_size(document, limits)
    if spelling:
        urls: tuple[str, ...] | None = check_shape(
            document, max_depth=limits.max_depth, max_context_entries=limits.max_context_entries,
            max_list_items=limits.max_list_items, too_deep=lambda: _too_deep(limits),
            too_many_contexts=lambda n: _too_many_contexts(n, limits),
            too_many_items=lambda n, where: CredentialError(
                Code.CANONICALIZATION_LIMIT, f"The list at {where} holds {n} items; at most "
                f"{limits.max_list_items} are canonicalized.", limit=limits.max_list_items))
    else:
        _check_context_lists(document, limits)
        _check_depth(document, limits)
        urls = None
    state = _state_for(loader)
    try:
        try:
            quads = quads_fast(document, state, limits.max_depth)
        except Unsupported:
            quads = quads_via_pyld(document, state, None if urls is None else pinned_terms(loader, urls))
    except BadgesmithError:
        raise
    except (TooDeep, RecursionError):
        raise _too_deep(limits) from None
    except Exception as exc:  # pyld raises JsonLdError, and sometimes worse
        raise _jsonld_invalid(exc) from exc
    if not quads:
        raise CredentialError(
            Code.JSONLD_INVALID,
            "The credential has no statements that JSON-LD would sign; it needs "
            "properties defined by its contexts.",
        )
    return canonize_quads(quads, max_blank_nodes=limits.max_blank_nodes,
                          max_hash_work=limits.max_hash_work)


__all__ = ["DEFAULT_LIMITS", "Limits", "canonicalize"]
