"""RS256 and ES256 VC-JWTs issued by a did:web instance verify everywhere (issue 17).

An instance made with ``init --did-web … --jwt-alg RS256`` and ``keys add --alg ES256 --default``
issues one VC-JWT with each key. Each verifies in Badgesmith (``badgesmith verify``, offline, the DID
document and status list from ``--documents``), in the Digital Bazaar oracle's jose path (the kid's
JsonWebKey from the same DID document), and in openbadgeslib 4.6.3 from PyPI, run in a throwaway
virtual environment of its own (``OB3Verifier.for_issuer_did`` with an injected fetcher: offline).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from keys.did import did_web_url

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "templates" / "achievements" / "ceu-course.toml"
HOST = "badges.lakeshore.example"
DID = f"did:web:{HOST}"
OPENBADGESLIB = "openbadgeslib==4.6.3"


def _cli(home: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--debug", "--home", str(home), *map(str, args)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def issued(tmp_path_factory) -> dict:
    """{alg: Path of its .jwt}, the documents folder and the DID document."""
    from issuer.awarding.issuing import Issuer

    home = tmp_path_factory.mktemp("jwt-algs") / "instance"
    _cli(home, "init", "--name", "Lakeshore", "--url", f"https://{HOST}", "--did-web", HOST, "--jwt-alg", "RS256")
    _cli(home, "achievement", "add", COURSE)
    tokens = {}
    for alg in ("RS256", "ES256"):
        if alg == "ES256":
            _cli(home, "keys", "add", "--alg", "ES256", "--default")
        out = json.loads(_cli(home, "issue", "storytime-early-literacy", "--email", f"{alg.lower()}@example.org",
                              "--format", "jwt", "--json"))
        tokens[alg] = next(Path(f) for f in out["files"] if f.endswith(".jwt"))
    issuer = Issuer.open(home)
    document = issuer.did_document()
    issuer.close()
    documents = home / "documents"
    documents.mkdir()
    index = json.loads((home / "out" / "status" / "index.json").read_text())
    for url, name in index.items():
        (documents / name).write_bytes((home / "out" / "status" / name).read_bytes())
    (documents / "did.json").write_text(json.dumps(document))
    (documents / "index.json").write_text(json.dumps({**index, did_web_url(DID): "did.json"}))
    didweb = home / "didweb" / HOST
    didweb.mkdir(parents=True)
    (didweb / "did.json").write_text(json.dumps(document))
    return {"tokens": tokens, "documents": documents, "did_document": document, "didweb": home / "didweb"}


def test_the_did_document_lists_the_rsa_and_p256_keys_as_json_web_keys(issued):
    methods = {m["id"]: m for m in issued["did_document"]["verificationMethod"]}
    assert methods[f"{DID}#rs256-1"]["publicKeyJwk"]["kty"] == "RSA"
    assert methods[f"{DID}#es256-1"]["publicKeyJwk"]["crv"] == "P-256"
    assert {f"{DID}#key-1", f"{DID}#rs256-1", f"{DID}#es256-1"} <= set(issued["did_document"]["assertionMethod"])


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_badgesmith_verifies_the_token(issued, alg):
    token = issued["tokens"][alg].read_text().strip()
    header = json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == alg and header["kid"] == f"{DID}#{alg.lower()}-1"
    result = CliRunner().invoke(main, ["verify", str(issued["tokens"][alg]), "--json", "--offline",
                                       "--documents", str(issued["documents"])], catch_exceptions=False)
    report = json.loads(result.stdout)
    assert result.exit_code == 0, report["checks"]
    assert report["verified"] and report["format"] == "vc-jwt"


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_the_digital_bazaar_oracle_verifies_the_token_with_jose(issued, oracle, alg):
    verdict = oracle.verify(issued["tokens"][alg], didweb_dir=issued["didweb"])
    assert verdict["verified"], verdict["errors"]


@pytest.fixture(scope="session")
def openbadgeslib_python(request, tmp_path_factory) -> str:
    """A Python with openbadgeslib 4.6.3: $BADGESMITH_OPENBADGESLIB_PYTHON, or a venv made once in pytest's cache
    (or for this run, when the cache plugin is off: ``-p no:cacheprovider``)."""
    configured = os.environ.get("BADGESMITH_OPENBADGESLIB_PYTHON")
    if configured:
        return configured
    cache = getattr(request.config, "cache", None)
    venv = (cache.mkdir("openbadgeslib-4.6.3-venv") if cache is not None
            else tmp_path_factory.mktemp("openbadgeslib-4.6.3-venv"))
    python = venv / "bin" / "python"
    marker = venv / "installed"
    if not marker.exists():
        made = subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"cannot make a virtual environment for openbadgeslib: {made.stderr[-300:]}")
        pip = subprocess.run([str(python), "-m", "pip", "install", "-q", OPENBADGESLIB], capture_output=True,
                             text=True, timeout=600)
        if pip.returncode != 0:
            pytest.skip(f"{OPENBADGESLIB} could not be installed from PyPI: {pip.stderr.strip()[-300:]}")
        marker.write_text(OPENBADGESLIB)
    return str(python)


_OPENBADGESLIB_VERIFY = textwrap.dedent("""
    import json, sys
    from openbadgeslib.ob3.verifier import OB3Verifier
    did, did_json, token = sys.argv[1], sys.argv[2], open(sys.argv[3]).read().strip()
    document = open(did_json, "rb").read()
    def download(url):
        assert url == "https://%s/.well-known/did.json" % did[len("did:web:"):], url
        return document
    credential = OB3Verifier.for_issuer_did(did, download=download).verify(token)
    print(json.dumps({"issuer": credential.issuer.id, "id": credential.id}))
""")


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_openbadgeslib_verifies_the_token(issued, openbadgeslib_python, alg):
    done = subprocess.run([openbadgeslib_python, "-c", _OPENBADGESLIB_VERIFY, DID,
                           str(issued["documents"] / "did.json"), str(issued["tokens"][alg])],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["issuer"] == DID
