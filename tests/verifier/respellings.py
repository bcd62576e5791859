"""Graph-preserving re-spellings of a credential's JSON, for the spelling-rule tests and the fuzzers.

A plain module (no tests in it), so fuzzers import it without defining Hypothesis tests inside theirs.
"""

from __future__ import annotations

from hypothesis import strategies as st

from keys._rdfc_spelling import pinned_terms
from schemas.loader import offline_loader

LOADER = offline_loader()
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"


def _iri_of(document: dict):
    contexts = document.get("@context")
    table = pinned_terms(LOADER, tuple(c for c in contexts if isinstance(c, str)) if isinstance(contexts, list)
                         else (contexts,) if isinstance(contexts, str) else ())

    def iri(name: str) -> str | None:
        iris = table.iris_by_name.get(name, ())
        return next(iter(iris)) if len(iris) == 1 else None
    return iri


def _nodes(document: dict) -> list[dict]:
    """The node objects a re-spelling may touch: the credential, its status entries, subject, achievement, issuer."""
    nodes = [document]
    status = document.get("credentialStatus")
    nodes.extend(status if isinstance(status, list) else [status] if isinstance(status, dict) else [])
    subject = document.get("credentialSubject")
    if isinstance(subject, dict):
        nodes.append(subject)
        if isinstance(subject.get("achievement"), dict):
            nodes.append(subject["achievement"])
    if isinstance(document.get("issuer"), dict):
        nodes.append(document["issuer"])
    return nodes


def respell(document: dict, data: st.DataObject) -> None:
    """One re-spelling of ``document`` in place, drawn with ``data`` (the pipeline and VC API fuzzers use it too).

    Meant to keep the graph; whether it did is for the caller to check (``_graph``).
    """
    nodes = _nodes(document)
    _iri = _iri_of(document)
    if not isinstance(document.get("@context"), list):
        return
    node = data.draw(st.sampled_from(nodes))
    keys = sorted(k for k in node if k not in ("@context", "proof"))
    if not keys:
        return
    key = data.draw(st.sampled_from(keys))
    how = data.draw(st.sampled_from(["iri", "alias", "value-object", "array", "keyword", "keyword-alias",
                                     "type-iri", "split", "graph", "included", "nest", "compact-iri"]))
    iri = _iri(key)
    context = document["@context"]
    if how == "iri" and iri:
        node[iri] = node.pop(key)
    elif how == "alias" and iri:
        context.append({f"x{key}": iri})
        node[f"x{key}"] = node.pop(key)
    elif how == "value-object" and isinstance(node[key], (str, int, float)) and key not in ("id", "type"):
        value = node[key]
        node[key] = {"@value": value, "@type": XSD_DATETIME} if key in ("validFrom", "validUntil") else {"@value": value}
    elif how == "array" and not isinstance(node[key], list):
        node[key] = [node[key]]
    elif how == "keyword" and key in ("id", "type"):
        node["@" + key] = node.pop(key)
    elif how == "keyword-alias" and key in ("id", "type"):
        context.append({f"my{key}": "@" + key})
        node[f"my{key}"] = node.pop(key)
    elif how == "type-iri" and key == "type":
        names = node["type"] if isinstance(node["type"], list) else [node["type"]]
        node["type"] = [_iri(n) or n for n in names]
    elif how == "split" and isinstance(node.get("id"), str) and node is not document:
        for parent_key in ("credentialStatus",):
            entries = document.get(parent_key)
            entries = entries if isinstance(entries, list) else [entries]
            if any(e is node for e in entries):
                movable = sorted(k for k in node if k not in ("id", "type"))
                if not movable:
                    return
                moved = data.draw(st.sampled_from(movable))
                rest = {k: v for k, v in node.items() if k != moved}
                document[parent_key] = [e for e in entries if e is not node] + [
                    {"id": node["id"], "type": node.get("type"), moved: node[moved]}, rest]
    elif how == "graph":
        body = {k: document.pop(k) for k in list(document) if k != "@context"}
        document["@graph"] = [body]
    elif how == "included" and node is not document and isinstance(node.get("id"), str):
        for parent_key, value in list(document.items()):
            if value is node:
                document[parent_key] = {"id": node["id"]}
                document.setdefault("@included", []).append(node)
    elif how == "nest" and node is document and key not in ("id", "type"):
        context.append({"box": "@nest"})
        document["box"] = {key: document.pop(key)}
    elif how == "compact-iri" and key == "statusListCredential" and isinstance(node[key], str):
        context.append({"st": "https://badges.example.org/status/"})
        node[key] = "st:" + node[key].removeprefix("https://badges.example.org/status/")
