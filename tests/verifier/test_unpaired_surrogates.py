"""Issue 12: a lone UTF-16 surrogate escape (``\\ud800``) anywhere in a credential is JSON_MALFORMED.

Python's ``json`` reads ``"\\ud800"`` into a string that cannot be written as
UTF-8, so such a credential used to crash far from the input (exit 3 on
``badgesmith verify --json``, a 500 on the ``/verify`` page). Every reader
refuses it on the spot: the JSON reader, the JWT decoder, and so every
container and entry point built on them.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from PIL import Image

from app import create_app
from cli import main
from errors import Code, InputError
from issuer.badge.bake import bake_png, bake_svg
from issuer.badge.sign import sign_credential
from keys.json_text import find_lone_surrogate
from keys.multikey import b64url_encode
from keys.vc_jwt import decode_jwt
from schemas.loader import offline_loader
from verifier.fetch import Offline
from verifier.pipeline import Verifier
from verifier.sources import Limits, parse_json

NOW = datetime(2026, 3, 1, tzinfo=UTC)
LIMITS = Limits()
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>'


@pytest.fixture
def with_escape(storytime, issuer_key):
    """``with_escape(escape)``: a signed credential whose achievement name ends in ``escape`` (JSON text)."""
    text = json.dumps(sign_credential(storytime(), issuer_key, loader=offline_loader(), created=NOW))
    return lambda escape: text.replace('"name": "Storytime"', f'"name": "Storytime{escape}"')


@pytest.fixture
def signed_jwt(issuer_key):
    """``signed_jwt(payload_text)``: a VC-JWT over the text exactly as written, signed with the issuer's key."""
    did = issuer_key.public_key.did_key
    header = b64url_encode(json.dumps({"alg": "EdDSA", "typ": "JWT",
                                       "kid": f"{did}#{did.removeprefix('did:key:')}"}).encode())

    def sign(payload_text: str) -> str:
        signing_input = f"{header}.{b64url_encode(payload_text.encode('ascii'))}"
        return f"{signing_input}.{b64url_encode(issuer_key.sign(signing_input.encode('ascii')))}"

    return sign


def _png(text: str) -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (8, 8), (31, 58, 95)).save(image, "PNG")
    return bake_png(image.getvalue(), text)


def _verify(data: bytes):
    return Verifier(loader=offline_loader(), fetch=Offline(), now=NOW).verify_bytes(data)


# -- the JSON reader ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text, where", [
    ('{"name": "a\\ud800"}', "name"),
    ('{"name": "\\udfff"}', "name"),
    ('{"name": "\\udc00\\ud800"}', "name"),  # a pair in the wrong order is two lone halves
    ('{"name": "\\ud800x\\udc00"}', "name"),  # the halves of a pair, split by a character
    ('{"a\\ud800": 1}', "a key in the top-level object"),
    ('{"credentialSubject": {"achievement": {"tag": ["ok", "\\uDBFF"]}}}',
     "credentialSubject.achievement.tag[1]"),
    ('{"credentialSubject": {"x\\udfffy": true}}', "a key in credentialSubject"),
])
def test_parse_json_unpaired_surrogate_is_json_malformed_naming_where(text, where):
    with pytest.raises(InputError) as caught:
        parse_json(text.encode(), limits=LIMITS)
    assert caught.value.code == Code.JSON_MALFORMED
    assert "unpaired surrogate" in caught.value.message and where in caught.value.message
    assert caught.value.details["where"] == where


@pytest.mark.parametrize("text, where", [('"\\ud800"', "the top level"), ('["\\ud800"]', "[0]")])
def test_parse_json_unpaired_surrogate_outside_an_object_is_still_refused(text, where):
    with pytest.raises(InputError) as caught:
        parse_json(text, limits=LIMITS)
    assert caught.value.code == Code.JSON_MALFORMED and caught.value.details["where"] == where


@pytest.mark.parametrize("text, value", [
    ('{"name": "\\ud83d\\ude00"}', "\U0001F600"),  # a proper pair is one character
    ('{"name": "\\\\ud800"}', "\\ud800"),  # an escaped backslash: six ordinary characters
    ('{"name": "\\u00e9\\ud7ff\\ue000"}', "\u00e9\ud7ff\ue000"),  # just outside the surrogate range
])
def test_parse_json_valid_escapes_near_the_surrogates_are_read(text, value):
    assert parse_json(text.encode(), limits=LIMITS) == {"name": value}


def test_find_lone_surrogate_walks_without_recursion():
    deep: object = "\udfff"
    for _ in range(50_000):
        deep = [deep]
    assert find_lone_surrogate(deep)[1] == "\\udfff"


def test_decode_jwt_payload_with_an_unpaired_surrogate_is_json_malformed(signed_jwt):
    token = signed_jwt(json.dumps({"name": "\ud800"}))
    with pytest.raises(InputError) as caught:
        decode_jwt(token)
    assert caught.value.code == Code.JSON_MALFORMED and "The JWT payload holds" in caught.value.message


# -- every container, through the pipeline ---------------------------------------------------------------


@pytest.mark.parametrize("container", ["json", "png", "svg", "jwt", "svg-jwt"])
def test_every_container_with_an_unpaired_surrogate_is_json_malformed(with_escape, signed_jwt, container):
    text = with_escape("\\ud800")
    data = {"json": lambda: text.encode(), "png": lambda: _png(text), "svg": lambda: bake_svg(SVG, text),
            "jwt": lambda: signed_jwt(text).encode(),
            "svg-jwt": lambda: bake_svg(SVG, signed_jwt(text))}[container]()
    with pytest.raises(InputError) as caught:
        _verify(data)
    assert caught.value.code == Code.JSON_MALFORMED
    assert "credentialSubject.achievement.name" in caught.value.message


def test_a_presentation_with_an_unpaired_surrogate_inside_is_json_malformed(with_escape):
    credential = with_escape("\\udfff")
    presentation = ('{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"], '
                    f'"verifiableCredential": [{credential}]}}')
    with pytest.raises(InputError) as caught:
        _verify(presentation.encode())
    assert caught.value.code == Code.JSON_MALFORMED and "verifiableCredential[0]" in caught.value.message


# -- every entry point ---------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["--json"], []])
def test_badgesmith_verify_unpaired_surrogate_exits_2_with_one_error_line(tmp_path, with_escape, args):
    path = tmp_path / "credential.json"
    path.write_text(with_escape("\\ud800"))
    result = CliRunner().invoke(main, ["verify", "--offline", *args, str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    if args:  # under --json the error is a JSON object on stdout (issue 16), with the same exit code
        error = json.loads(result.stdout)
        assert error["code"] == "JSON_MALFORMED" and "unpaired surrogate" in error["message"]
        assert result.stderr == ""
        return
    assert result.stdout == ""
    assert result.stderr.startswith("error [JSON_MALFORMED]: ") and "unpaired surrogate" in result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.fixture
def client():
    return create_app({"TESTING": True, "RATE_LIMIT": "off", "OFFLINE": True, "NOW": lambda: NOW}).test_client()


def test_verify_page_unpaired_surrogate_is_a_400_page_not_a_500(client, with_escape):
    page = client.post("/verify", data={"credential": with_escape("\\ud800")})
    assert page.status_code == 400
    assert "unpaired surrogate" in page.get_data(as_text=True)


def test_verify_page_upload_with_an_unpaired_surrogate_is_a_400_page(client, with_escape):
    page = client.post("/verify", data={"file": (io.BytesIO(_png(with_escape("\\udfff"))), "badge.png")},
                       content_type="multipart/form-data")
    assert page.status_code == 400 and "unpaired surrogate" in page.get_data(as_text=True)


@pytest.mark.parametrize("content_type, body", [
    ("application/json", lambda text, sign: text),
    ("application/jwt", lambda text, sign: sign(text)),
])
def test_api_verify_unpaired_surrogate_is_400_json_malformed(client, with_escape, signed_jwt, content_type, body):
    response = client.post("/api/verify", data=body(with_escape("\\ud800"), signed_jwt), content_type=content_type)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "JSON_MALFORMED"


def test_vc_api_verify_unpaired_surrogate_is_400_json_malformed(client, with_escape):
    credential = with_escape("\\udc00\\ud800")
    body = f'{{"verifiableCredential": {credential}, "options": {{}}}}'
    response = client.post("/credentials/verify", data=body, content_type="application/json")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "JSON_MALFORMED" and error["where"] == "verifiableCredential.credentialSubject." \
        "achievement.name"


def test_vc_api_verify_presentation_with_an_unpaired_surrogate_is_400(client, with_escape):
    credential = with_escape("\\ud800")
    body = ('{"verifiablePresentation": {"@context": ["https://www.w3.org/ns/credentials/v2"], '
            f'"type": ["VerifiablePresentation"], "verifiableCredential": [{credential}]}}}}')
    response = client.post("/presentations/verify", data=body, content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "JSON_MALFORMED"


# -- documents fetched or configured beside the credential ----------------------------------------

def test_a_status_list_or_did_document_with_an_unpaired_surrogate_fails_its_check_not_the_process(
        storytime, issuer_key):
    """Fetched documents are read by their own checks: a clear failed check, never a crash later."""
    from verifier.fetch import DictFetch

    from issuer.badge.status import status_entry

    url = "https://badges.example.org/status/revocation/1"
    credential = storytime()
    credential["credentialStatus"] = status_entry(url, 5, "revocation")
    signed = json.dumps(sign_credential(credential, issuer_key, loader=offline_loader(), created=NOW)).encode()
    broken_list = b'{"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "' + url.encode() + \
        b'", "name": "\\ud800"}'
    report = Verifier(loader=offline_loader(), fetch=DictFetch({url: broken_list}), now=NOW).verify_bytes(signed)
    assert report.check("status").code == "STATUS_LIST_INVALID" and "surrogate" in report.check("status").message
    report.to_text().encode("utf-8")  # printable: the message does not carry the surrogate

    from keys.did import resolve_verification_method
    did_web = "https://badges.example.org/.well-known/did.json"
    with pytest.raises(InputError) as refused:
        resolve_verification_method("did:web:badges.example.org#key-1",
                                    fetch=DictFetch({did_web: b'{"id": "did:web:badges.example.org\\udfff"}'}))
    assert refused.value.code is Code.KEY_UNRESOLVABLE and "surrogate" in refused.value.message


def test_a_trust_list_with_an_unpaired_surrogate_is_json_malformed(tmp_path):
    from verifier.trust import load_trust_list

    path = tmp_path / "trust.json"
    path.write_text('{"did:key:z6Mk": "Lakeshore \\ud800"}', "utf-8")
    with pytest.raises(Exception) as refused:
        load_trust_list(path)
    assert refused.value.code is Code.JSON_MALFORMED and "surrogate" in refused.value.message


@pytest.mark.parametrize("text, may", [
    ('{"name": "plain ASCII"}', False),
    ('{"name": "caf\\u00e9 \\u4e2d"}', False),          # escapes, none of a surrogate
    ('{"name": "café 中 😀"}', False),                  # non-ASCII, no surrogate
    ('{"name": "\\ud83d\\ude00"}', True),               # an escaped pair: parsed, then found paired
    ('{"name": "\\uDFFF"}', True),
    ('{"name": "raw \ud800"}', True),                   # a str given directly
])
def test_only_text_that_may_hold_a_surrogate_is_walked(text, may):
    from keys.json_text import _may_hold_surrogate

    assert _may_hold_surrogate(text) is may
