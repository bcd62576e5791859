"""A test helper (no tests here): mark stored achievements ``repeatable``, as a series of sessions is.

Scenarios that award one learner the same course on several dates (CEUs
adding up over the years) need it since one award per person is the default.
"""

from __future__ import annotations


def make_repeatable(issuer, *slugs: str):
    """Declare each of ``slugs`` repeatable in ``issuer``'s registry (as ``repeatable = true`` in its TOML)."""
    for slug in slugs:
        issuer.registry.put_achievement(issuer.issuer_id, slug, {**issuer.achievement(slug), "repeatable": True})
    return issuer
