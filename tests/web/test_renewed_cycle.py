"""After a renewal (issue 16): progress, the learner page and both badge pages show the new cycle, and the
renewed credential's LinkedIn link carries the day it was awarded, not the day its cycle starts.

Jane's certification (from tests/web/test_learner_pages.py's instance) still runs for about two years; staff
renew it early, so the new cycle starts where the current one ends.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

from issuer.awarding.pathways import progress
from issuer.records.renewals import renew
from tests.web.test_learner_pages import JANE, _page, _section, site  # noqa: F401 (site is a fixture)
from verifier.wording import long_date


def _renew_early(issuer, ids):
    old = issuer.registry.get_credential(ids["cert"])
    renewed = renew(issuer, ids["cert"], override=True, reason="board approved the CEUs from a conference")
    return old, renewed.awarded.record


def _badge_page(app, record) -> str:
    response = app.test_client().get(f"/credentials/{record.id.removeprefix('urn:uuid:')}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_an_early_renewal_is_awarded_today_and_every_view_shows_the_next_cycle(site):  # noqa: F811
    app, issuer, ids = site
    old, new = _renew_early(issuer, ids)
    today = date.today()
    assert new.issued_on == today and new.valid_from == old.valid_until
    credential = json.loads(new.credential)
    assert credential["awardedDate"] == f"{today.isoformat()}T00:00:00Z"
    assert credential["validFrom"] == old.valid_until.strftime("%Y-%m-%dT%H:%M:%SZ")
    cycle = f"{long_date(new.valid_from)} to {long_date(new.valid_until)}"

    page = _badge_page(app, old)  # the current certification points at its next cycle
    assert f"Renewed on {long_date(today)}: the next cycle runs from {cycle}." in page
    assert f'href="/credentials/{new.id.removeprefix("urn:uuid:")}">The renewed certification</a>' in page

    page = _badge_page(app, new)  # the renewal says what it is, awarded today, valid later
    assert f"Renewed on {long_date(today)}: this cycle runs from {cycle}; until then the previous " \
           "certification is in force." in page
    assert f'<dt>Issued</dt><dd><time datetime="{today.isoformat()}">' in page
    assert f"<dt>Valid from</dt><dd><time datetime=\"{credential['validFrom']}\">" in page
    # not yet started is information, not a failure: a neutral "Starts on" (dated from the signed validFrom),
    # the art undimmed, no ✗, and still never "Valid"
    starts = long_date(credential["validFrom"])
    assert f"Starts on {starts}" in page and f"This badge starts on {starts}." in page
    assert 'role="status" id="state-banner"' in page and 'role="alert"' not in page
    assert "badge-hero__image--dimmed" not in page and "✗" not in page
    assert ">Valid<" not in page.replace("\n", "").replace(" ", "") and "linkedin-link" not in page

    certifications = _section(_page(app, issuer), "certifications")
    assert f"/credentials/{new.id.removeprefix('urn:uuid:')}\">renewed</a>: the next cycle runs from" in certifications
    assert long_date(new.valid_until) in certifications

    mine = progress(issuer, JANE, expiring_days=5000)
    assert old.id not in [c.id for c in mine.expiring]  # renewed: not "expires soon"
    (cycle_,) = mine.renewed
    assert (cycle_.previous, cycle_.id, cycle_.awarded_on, cycle_.valid_from) == (old.id, new.id, today,
                                                                                 new.valid_from)
    assert mine.to_dict()["renewed"][0]["valid_until"] == new.valid_until.isoformat()


def test_the_badge_page_never_says_valid_before_the_signed_valid_from(site):  # noqa: F811
    from issuer.store.models import CredentialRow

    app, issuer, ids = site
    _, new = _renew_early(issuer, ids)
    with issuer.registry.session() as s:  # the stored row says the cycle started; what was signed says later
        s.get(CredentialRow, new.id).valid_from = datetime.now(timezone.utc) - timedelta(days=1)
    page = _badge_page(app, new)
    assert f"Starts on {long_date(json.loads(new.credential)['validFrom'])}" in page
    assert "linkedin-link" not in page and "badge-state--active" not in page


def test_the_renewed_credentials_linkedin_link_carries_its_award_date(site):  # noqa: F811
    app, issuer, ids = site
    _, new = _renew_early(issuer, ids)
    today = date.today()
    later = new.valid_from + timedelta(days=1)  # the new cycle has started
    issuer.now = lambda: later
    page = _badge_page(app, new)
    href = page.split('id="linkedin-link"')[0].rsplit('href="', 1)[1].split('"', 1)[0]
    query = parse_qs(urlsplit(href.replace("&amp;", "&")).query)
    assert (query["issueYear"], query["issueMonth"]) == ([str(today.year)], [str(today.month)])
    assert query["expirationYear"] == [str(new.valid_until.year)]
    learner = _page(app, issuer)
    links = [link.replace("&amp;", "&") for link in learner.split('href="') if "certId=" in link
             and new.id.replace(":", "%3A") in link]
    assert links and all(f"issueYear={today.year}&issueMonth={today.month}&" in link for link in links)
    assert datetime.now(timezone.utc) < new.valid_from  # a future cycle start would have been in the link


def test_an_early_renewals_certificate_is_awarded_today_valid_from_its_cycle_and_not_stamped(site):  # noqa: F811
    """Printed the day it is awarded, it outlives the day its cycle starts: no "NOT YET VALID" across it."""
    import pypdfium2 as pdfium

    app, issuer, ids = site
    _, new = _renew_early(issuer, ids)
    credential = json.loads(new.credential)
    dates = (f"Awarded {long_date(credential['awardedDate'])} · valid from {long_date(credential['validFrom'])} "
             f"until {long_date(credential['validUntil'])}")
    uid = new.id.removeprefix("urn:uuid:")
    page = app.test_client().get(f"/credentials/{uid}/certificate")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'<p class="certificate__date">{dates}</p>' in html
    assert "certificate-stamp" not in html and "certificate--void" not in html and 'role="alert"' not in html
    pdf = app.test_client().get(f"/credentials/{uid}/certificate.pdf")
    text = " ".join(pdfium.PdfDocument(pdf.get_data())[0].get_textpage().get_text_range().split())
    assert dates in text
    assert "NOT YET VALID" not in text.upper() and "Renewed on" not in text
