"""The verify pages in a real browser (headless Chromium): upload, phone layout, hostile input, a11y."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

HOSTILE = "<script>alert(1)</script>"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def page(browser, live_server) -> Iterator[Any]:
    """A fresh page; records dialogs, console messages and every request it makes."""
    context = browser.new_context(viewport=PHONE, base_url=live_server)
    page = context.new_page()
    page.dialogs, page.console, page.requests = [], [], []  # type: ignore[attr-defined]
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda message: page.console.append(f"{message.type}: {message.text}"))
    page.on("request", lambda request: page.requests.append(request.url))
    yield page
    context.close()


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _has_no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_upload_a_badge_and_read_the_verdict(page, tmp_path, make_credential, bake_png, live_server):
    page.goto("/verify")
    page.get_by_label("Badge image or credential file").set_input_files(
        _write(tmp_path, "badge.png", bake_png(make_credential("Cataloguing Basics"))))
    page.get_by_role("button", name="Verify").click()
    verdict = page.get_by_role("status")
    assert verdict.inner_text().strip() == ("✓\nVerified: Cataloguing Basics, issued by Continuing Education "
                                            "Office to Ada Lovelace on 1 March 2026.")
    assert page.locator("h1#verdict").inner_text().startswith("Verified:")
    assert not [m for m in page.console if "Content Security Policy" in m], page.console
    assert all(url.startswith(live_server) for url in page.requests)


def test_drop_a_file_onto_the_form(page, make_credential):
    """The drag-and-drop enhancement puts the dropped file into the file input."""
    page.goto("/verify")
    credential = json.dumps(make_credential("Dropped badge"))
    page.evaluate("""(text) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([text], "badge.json", {type: "application/json"}));
        const zone = document.querySelector("[data-dropzone]");
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
    }""", credential)
    assert page.locator("[data-chosen]").inner_text() == "Selected: badge.json"
    page.get_by_role("button", name="Verify").click()
    assert page.locator("#verdict").inner_text().startswith("Verified: Dropped badge")


def test_verdict_needs_no_javascript(browser, live_server, make_credential):
    context = browser.new_context(java_script_enabled=False, base_url=live_server)
    page = context.new_page()
    try:
        page.goto("/verify")
        page.get_by_label("Paste a credential (JSON or JWT)").fill(json.dumps(make_credential(tampered=True)))
        page.get_by_role("button", name="Verify").click()
        assert page.locator("#verdict").inner_text().startswith("Not verified:")
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/verify", "result", "/nowhere"])
def test_phone_viewport_has_no_horizontal_scroll(page, make_credential, path):
    if path == "result":
        long_name = "Continuing-education-unit-" * 12 + HOSTILE
        credential = make_credential(long_name, issuer={"id": "https://" + "very-long-host." * 10 + "example",
                                                        "name": long_name})
        page.goto("/verify")
        page.get_by_label("Paste a credential (JSON or JWT)").fill(json.dumps(credential))
        page.get_by_role("button", name="Verify").click()
        page.locator("#verdict").wait_for()
    else:
        page.goto(path)
    assert page.viewport_size == PHONE
    assert _has_no_horizontal_scroll(page)


def test_hostile_credential_runs_no_script(page, make_credential, live_server):
    credential = make_credential(HOSTILE, issuer={"id": "https://evil.example", "name": '"><img src=x onerror=alert(2)>'})
    credential["credentialSubject"]["achievement"]["description"] = "<svg onload=alert(3)>"
    credential["credentialSubject"]["achievement"]["image"] = "https://tracker.example/pixel.png"
    page.goto("/verify")
    page.get_by_label("Paste a credential (JSON or JWT)").fill(json.dumps(credential))
    page.get_by_role("button", name="Verify").click()
    assert HOSTILE in page.locator("#verdict").inner_text()  # shown as text, not run
    page.wait_for_timeout(300)
    assert page.dialogs == []
    assert not any("tracker.example" in url or "evil.example" in url for url in page.requests)
    assert page.get_by_role("link", name=re.compile("Show image from tracker.example")).count() == 1


def test_hostile_svg_upload_runs_no_script(page, tmp_path, make_credential, bake_svg):
    page.goto("/verify")
    page.get_by_label("Badge image or credential file").set_input_files(
        _write(tmp_path, "badge.svg", bake_svg(make_credential(HOSTILE), hostile=True)))
    page.get_by_role("button", name="Verify").click()
    page.locator("#verdict").wait_for()
    page.wait_for_timeout(300)
    assert page.dialogs == []
    assert page.locator("svg, img, object, embed, iframe").count() == 0


def test_every_input_has_a_label_and_images_have_alt(page):
    page.goto("/verify")
    unlabelled = page.evaluate("""() => [...document.querySelectorAll("input, textarea, select")]
        .filter(el => el.type !== "hidden")
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                      && !el.getAttribute("aria-labelledby"))
        .map(el => el.name || el.id)""")
    assert unlabelled == []
    assert page.evaluate("document.querySelectorAll('img:not([alt])').length") == 0
    for label in ("Badge image or credential file", "Paste a credential (JSON or JWT)",
                  "Recipient's e-mail address (optional)"):
        assert page.get_by_label(label).count() == 1, label


def test_first_tab_reaches_the_skip_link(page):
    page.goto("/verify")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"


_COLOURS = """(selector) => {
    const el = document.querySelector(selector);
    let bg = el, background = "rgba(0, 0, 0, 0)";
    while (bg) {  // the first ancestor with an opaque background is what the text sits on
        background = getComputedStyle(bg).backgroundColor;
        if (!/rgba\\(.*, 0\\)$/.test(background) && background !== "transparent") break;
        bg = bg.parentElement;
    }
    if (!bg) background = "rgb(255, 255, 255)";
    return [getComputedStyle(el).color, background];
}"""


def _luminance(css: str) -> float:
    red, green, blue = (int(v) / 255 for v in re.findall(r"[\d.]+", css)[:3])

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def _contrast(foreground: str, background: str) -> float:
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("verified", [True, False])
def test_text_contrast_is_at_least_4_5(page, make_credential, verified):
    page.goto("/verify")
    for selector in ("body", ".field__hint", ".field__label", ".site-footer p", ".button--primary"):
        foreground, background = page.evaluate(_COLOURS, selector)
        assert _contrast(foreground, background) >= 4.5, (selector, foreground, background)
    page.get_by_label("Paste a credential (JSON or JWT)").fill(json.dumps(make_credential(tampered=not verified)))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_selector("#verdict")  # the report is a new page: on a busy machine it is not there at once
    for selector in ("#verdict", ".check__message", ".check__code", ".check__outcome", ".facts dt"):
        foreground, background = page.evaluate(_COLOURS, selector)
        assert _contrast(foreground, background) >= 4.5, (selector, foreground, background)


def test_credentials_inside_a_transcript_fold_open_by_keyboard_and_failures_are_open(page, make_credential):
    inner = [make_credential("Storytime for Early Literacy"), make_credential("Teen Programming", tampered=True)]
    inner[1]["id"] = "urn:uuid:00000000-0000-4000-8000-000000000002"
    page.goto("/verify")
    page.get_by_label("Paste a credential (JSON or JWT)").fill(json.dumps(make_credential(embedded=inner)))
    page.get_by_role("button", name="Verify").click()
    items = page.locator("details.embedded__item")
    assert items.count() == 2
    assert [items.nth(i).evaluate("el => el.open") for i in range(2)] == [False, True]
    assert "PROOF_INVALID" in items.nth(1).inner_text() and "not verified" in items.nth(1).inner_text()
    summary = items.nth(0).locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    assert items.nth(0).evaluate("el => el.open") and "PROOF_OK" in items.nth(0).inner_text()
    foreground, background = page.evaluate(_COLOURS, "details.embedded__item summary")
    assert _contrast(foreground, background) >= 4.5
    assert _has_no_horizontal_scroll(page)
