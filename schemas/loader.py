"""The offline JSON-LD document loader: pinned contexts only, never the network.

``offline_loader()`` returns a pyld-compatible loader that serves the contexts
shipped in ``schemas/contexts/`` by exact URL and refuses everything else with
``CONTEXT_NOT_ALLOWED``. Contexts are parsed once per process and shared
read-only; a loader with ``extra`` documents (tests, vectors that use the
examples context) layers them on top without touching the shared map.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping

from errors import Code, CredentialError

CONTEXTS_DIR = Path(__file__).resolve().parent / "contexts"

Loader = Callable[..., dict[str, Any]]


@lru_cache(maxsize=1)
def pinned_contexts() -> Mapping[str, Any]:
    """Every pinned context, URL → parsed document (parsed once per process)."""
    index = json.loads((CONTEXTS_DIR / "index.json").read_text("utf-8"))
    parsed: dict[str, Any] = {}
    for url, entry in index.items():
        parsed[url] = json.loads((CONTEXTS_DIR / entry["file"]).read_text("utf-8"))
    return MappingProxyType(parsed)


class OfflineLoader:
    """A document loader over a fixed URL → document map.

    Callable as pyld expects (``loader(url, options)``) and returns pyld's
    RemoteDocument shape. ``urls`` lists what it will serve.
    """

    __slots__ = ("_documents", "_remote")

    def __init__(self, documents: Mapping[str, Any]) -> None:
        self._documents = documents
        # pyld treats the returned dict as read-only, so one per URL suffices.
        self._remote = {
            url: {"contextUrl": None, "documentUrl": url, "document": doc}
            for url, doc in documents.items()
        }

    @property
    def urls(self) -> frozenset[str]:
        return frozenset(self._documents)

    def __contains__(self, url: object) -> bool:
        return url in self._documents

    def document(self, url: str) -> Any:
        """The parsed document for ``url``, or ``CONTEXT_NOT_ALLOWED``."""
        try:
            return self._documents[url]
        except (KeyError, TypeError):
            raise _refuse(url) from None

    def __call__(self, url: str, options: Any = None) -> dict[str, Any]:
        try:
            return self._remote[url]
        except (KeyError, TypeError):
            raise _refuse(url) from None


def _refuse(url: object) -> CredentialError:
    shown = str(url)[:200]
    return CredentialError(
        Code.CONTEXT_NOT_ALLOWED,
        f"The JSON-LD context {shown} is not one of the pinned contexts Badgesmith loads; "
        "contexts are never fetched from the network.",
        url=shown,
    )


@lru_cache(maxsize=1)
def _default_loader() -> OfflineLoader:
    return OfflineLoader(pinned_contexts())


def offline_loader(extra: Mapping[str, Any] | None = None) -> OfflineLoader:
    """The strict offline loader; ``extra`` adds documents (e.g. test contexts)."""
    if not extra:
        return _default_loader()
    return OfflineLoader({**pinned_contexts(), **extra})


__all__ = ["Loader", "OfflineLoader", "offline_loader", "pinned_contexts"]
