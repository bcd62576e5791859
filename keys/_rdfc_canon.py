"""RDFC-1.0 (URDNA2015) blank-node labelling over pre-serialised quads.

Private to ``keys.rdfc``. A quad is a tuple ``(s, p, o, g)`` of N-Quads term
strings: ``"<iri>"``, ``"_:label"`` or (object only) a serialised literal;
``g`` is ``None`` for the default graph. Because every term is already in its
N-Quads form, hashing and the final serialisation are string joins instead of
pyld's per-component dict copies, which is most of the speed-up here.

The algorithm follows pyld's ``canon.URDNA2015`` step for step (same quirks:
a quad is listed once per blank-node position, the same permutation order) so
the output is byte-identical; it adds a work budget so adversarial graphs that
force the factorial N-degree search fail fast with ``CANONICALIZATION_LIMIT``.
"""

from __future__ import annotations

from hashlib import sha256

from pyld.canon import permutations

from errors import Code, CredentialError

Quad = tuple[str, str, str, "str | None"]


def _line(s: str, p: str, o: str, g: str | None) -> str:
    if g is None:
        return f"{s} {p} {o} .\n"
    return f"{s} {p} {o} {g} .\n"


class _WorkBudget:
    """Counts N-degree hash calls and permutations against a ceiling."""

    __slots__ = ("left",)

    def __init__(self, limit: int) -> None:
        self.left = limit

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise CredentialError(
                Code.CANONICALIZATION_LIMIT,
                "The credential's blank nodes are too symmetric to canonicalize within "
                "the work limit; give its nodes ids or distinct properties.",
            )


class _Canonicalizer:
    __slots__ = ("by_bnode", "related", "first", "canonical", "budget")

    def __init__(self, quads: list[Quad], budget: _WorkBudget) -> None:
        by_bnode: dict[str, list[Quad]] = {}
        for quad in quads:
            s, _p, o, g = quad
            # pyld lists a quad once per blank-node position (twice for a
            # self-loop); first-degree hashes depend on it, so do the same.
            if s[0] == "_":
                by_bnode.setdefault(s, []).append(quad)
            if o[0] == "_":
                by_bnode.setdefault(o, []).append(quad)
            if g is not None and g[0] == "_":
                by_bnode.setdefault(g, []).append(quad)
        self.by_bnode = by_bnode
        self.related: dict[str, list[tuple[str, str, str]]] = {}
        self.first: dict[str, str] = {}
        self.canonical: dict[str, str] = {}
        self.budget = budget

    def issue(self, bnode: str) -> str:
        label = self.canonical.get(bnode)
        if label is None:
            label = self.canonical[bnode] = f"_:c14n{len(self.canonical)}"
        return label

    def hash_first_degree(self, bnode: str) -> str:
        cached = self.first.get(bnode)
        if cached is not None:
            return cached
        lines = []
        for s, p, o, g in self.by_bnode[bnode]:
            if s[0] == "_":
                s = "_:a" if s == bnode else "_:z"
            if o[0] == "_":
                o = "_:a" if o == bnode else "_:z"
            if g is not None and g[0] == "_":
                g = "_:a" if g == bnode else "_:z"
            lines.append(_line(s, p, o, g))
        lines.sort()
        digest = self.first[bnode] = sha256("".join(lines).encode()).hexdigest()
        return digest

    def related_of(self, bnode: str) -> list[tuple[str, str, str]]:
        """The other blank nodes ``bnode``'s quads mention, in quad order, with predicate and position.

        Worked out once per node: the N-degree hash reads only these, so its
        cost does not grow with the node's literal values (a symmetric graph
        whose nodes carried 24,000 literals each took seconds within the budget).
        """
        found = self.related.get(bnode)
        if found is None:
            found = self.related[bnode] = [
                (component, p, position)
                for s, p, o, g in self.by_bnode[bnode]
                for component, position in ((s, "s"), (o, "o"), (g, "g"))
                if component is not None and component[0] == "_" and component != bnode]
        return found

    def hash_related(self, related: str, p: str, issuer: dict[str, str], position: str) -> str:
        label = self.canonical.get(related) or issuer.get(related)
        if label is None:
            label = self.hash_first_degree(related)
        data = position + (p if position != "g" else "") + label
        return sha256(data.encode()).hexdigest()

    def hash_n_degree(self, bnode: str, issuer: dict[str, str]) -> tuple[str, dict[str, str]]:
        """Hash N-Degree Quads; ``issuer`` maps blank node → ``_:bN`` in order."""
        self.budget.spend()
        to_related: dict[str, list[str]] = {}
        for component, p, position in self.related_of(bnode):
            digest = self.hash_related(component, p, issuer, position)
            to_related.setdefault(digest, []).append(component)

        md = sha256()
        for digest, related_nodes in sorted(to_related.items()):
            md.update(digest.encode())
            chosen_path = ""
            chosen_issuer: dict[str, str] | None = None
            for permutation in permutations(related_nodes):
                self.budget.spend()
                issuer_copy = dict(issuer)
                path = ""
                recursion: list[str] = []
                skip = False
                for related in permutation:
                    label = self.canonical.get(related)
                    if label is None:
                        label = issuer_copy.get(related)
                        if label is None:
                            recursion.append(related)
                            label = issuer_copy[related] = f"_:b{len(issuer_copy)}"
                    path += label
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                for related in recursion:
                    result_hash, issuer_copy = self.hash_n_degree(related, issuer_copy)
                    label = issuer_copy.get(related)
                    if label is None:
                        label = issuer_copy[related] = f"_:b{len(issuer_copy)}"
                    path += label + "<" + result_hash + ">"
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                if not chosen_path or path < chosen_path:
                    chosen_path = path
                    chosen_issuer = issuer_copy
            md.update(chosen_path.encode())
            assert chosen_issuer is not None
            issuer = chosen_issuer
        return md.hexdigest(), issuer

    def label_all(self) -> None:
        pending = set(self.by_bnode)
        to_bnodes: dict[str, list[str]] = {}
        simple = True
        while simple:
            simple = False
            to_bnodes = {}
            for bnode in pending:
                to_bnodes.setdefault(self.hash_first_degree(bnode), []).append(bnode)
            for digest, bnodes in sorted(to_bnodes.items()):
                if len(bnodes) > 1:
                    continue
                self.issue(bnodes[0])
                pending.discard(bnodes[0])
                del to_bnodes[digest]
                simple = True

        for _digest, bnodes in sorted(to_bnodes.items()):
            results = []
            for bnode in bnodes:
                if bnode in self.canonical:
                    continue
                results.append(self.hash_n_degree(bnode, {bnode: "_:b0"}))
            # pyld sorts by hash only (stable), so equal hashes keep list order.
            for _hash, issuer in sorted(results, key=lambda r: r[0]):
                for existing in issuer:
                    self.issue(existing)


def canonize_quads(quads: list[Quad], *, max_blank_nodes: int, max_hash_work: int) -> str:
    """Canonical N-Quads (RDFC-1.0) of ``quads``; limits raise CANONICALIZATION_LIMIT."""
    canon = _Canonicalizer(quads, _WorkBudget(max_hash_work))
    if len(canon.by_bnode) > max_blank_nodes:
        raise CredentialError(
            Code.CANONICALIZATION_LIMIT,
            f"The credential has {len(canon.by_bnode)} blank nodes, more than the "
            f"{max_blank_nodes} Badgesmith canonicalizes; give its nodes ids or split it.",
            blank_nodes=len(canon.by_bnode),
            limit=max_blank_nodes,
        )
    if canon.by_bnode:
        canon.label_all()
    label = canon.canonical
    lines = []
    append = lines.append
    for s, p, o, g in quads:  # _line, inlined: this loop runs once per statement signed
        if s[0] == "_":
            s = label[s]
        if o[0] == "_":
            o = label[o]
        if g is None:
            append(f"{s} {p} {o} .\n")
        else:
            append(f"{s} {p} {o} {label[g] if g[0] == '_' else g} .\n")
    lines.sort()
    return "".join(lines)
