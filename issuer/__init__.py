"""Build, sign, store and publish credentials: the issuing side of Badgesmith.

``Issuer.open(home)`` is the front door for an instance; ``build_credential`` +
``sign_credential`` work without one.
"""

from issuer.awarding.issuing import IssueRequest, Issuer
from issuer.badge.art import render_badge_png, render_badge_svg
from issuer.badge.bake import bake_png, bake_svg
from issuer.badge.credential import Award, Recipient, build_credential
from issuer.badge.qr import qr_png, qr_svg
from issuer.badge.sign import sign_credential
from issuer.store.registry import Registry

__all__ = [
    "Award", "IssueRequest", "Issuer", "Recipient", "Registry", "bake_png", "bake_svg", "build_credential",
    "qr_png", "qr_svg", "render_badge_png", "render_badge_svg", "sign_credential",
]
