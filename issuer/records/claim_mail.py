"""The claim page's PIN by e-mail (issue 20): confirming the award's address instead of trusting a link.

A claim page link travels by e-mail (a renewal reminder) or in a roster
summary. Its PIN either travels separately (staff send it) or, when the learner
asks on the page, goes by e-mail to the address the award was made to: a new
PIN each time, replacing the last. Whoever merely received a forwarded link
then cannot open it, because the PIN goes to the recipient, not to them.
"""

from __future__ import annotations

from collections.abc import Callable
from email.headerregistry import Address
from email.message import EmailMessage

from errors import Code, ConfigError, Conflict
from issuer.awarding import claims
from issuer.awarding.issuing import Issuer
from issuer.awarding.wallet_links import find_claim_page

Mailer = Callable[[EmailMessage], None]


def mask_email(address: str) -> str:
    """``j•••@example.org``: enough for the learner to recognise the address, not to learn it."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}"


def email_claim_pin(issuer: Issuer, secret: str, *, send: Mailer) -> str:
    """E-mail a new PIN for the claim page ``secret`` to the award's address; returns the address, masked.

    AWARD_NOT_CLAIMABLE when the award has no e-mail address on record;
    CONFIG_INVALID when the instance has no sender address.
    """
    offer = find_claim_page(issuer, secret)
    award = issuer.registry.get_credential(offer.credential_id, issuer_id=issuer.issuer_id)
    if award is None or not award.recipient_email:
        raise Conflict(Code.AWARD_NOT_CLAIMABLE, "No e-mail address is on record for this award: ask the office "
                       "for the PIN.")
    sender = issuer.settings.email
    if not sender:
        raise ConfigError(Code.CONFIG_INVALID, "PINs go by e-mail from [issuer] email in badgesmith.toml, "
                          "which is not set.")
    _, pin = claims.renew_tx_code(issuer, secret)
    brand = issuer.settings.public_brand
    name = str(issuer.achievement(award.achievement)["ob"].get("name") or "your badge")
    message = EmailMessage()
    message["From"] = Address(brand.name, addr_spec=sender)
    message["To"] = Address(award.recipient_name or "", addr_spec=award.recipient_email)
    message["Subject"] = f"Your PIN to add {name[:80]} to a wallet"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        f"Hello,\n\nYour PIN to add \"{name}\" to your wallet is:\n\n    {pin}\n\n"
        "Enter it on the page you opened. It replaces any earlier PIN. If you did not ask for it, ignore "
        f"this message: without the PIN nobody can add your badge to a wallet.\n\n{brand.name}\n")
    send(message)
    return mask_email(award.recipient_email)


__all__ = ["Mailer", "email_claim_pin", "mask_email"]
