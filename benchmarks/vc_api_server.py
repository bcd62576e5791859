"""Serve a did:key instance over HTTPS on 127.0.0.1 for the W3C VC API test suites.

    .venv/bin/python benchmarks/vc_api_server.py prepare DIR [--port 40443]
    .venv/bin/python benchmarks/vc_api_server.py serve DIR [--data-model]

``prepare`` makes DIR: a Badgesmith instance whose issuer is an Ed25519
``did:key`` (the suites resolve nothing else) with base URL
``https://127.0.0.1:PORT`` (so status lists are served at the https URLs the
credentials name) and no rate limit, an OAuth client ``w3c-suites`` (scopes
issue and status), a self-signed certificate for 127.0.0.1, ``suite.env``
(the client secret, for the suites' ``oauth2.clientSecret`` variable) and
``localConfig.cjs`` to copy into each suite's folder, and
``data-model-contexts.json``. ``serve`` runs gunicorn (2 workers) with TLS on
that port until interrupted; ``serve --data-model`` gives that app (and only
it: never the default loader) the contexts in ``data-model-contexts.json``:
``https://www.w3.org/ns/credentials/examples/v2``, which the W3C data-model
suite issues and verifies with, as the one-line ``@vocab`` context it expects.

The suites themselves are not part of Badgesmith: fetch them, ``npm install``
and copy ``localConfig.cjs`` in (README, "The W3C VC API").
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET_VARIABLE = "BADGESMITH_CLIENT_SECRET"  # the suites read the secret from this environment variable
DATA_MODEL_CONTEXTS = "data-model-contexts.json"
# What the VC Data Model 2.0 suite expects at this URL (w3c/vc-data-model contexts/credentials/examples/v2).
# No registry package ships it, so Badgesmith does not pin it; the suite set-up states it here.
EXAMPLES_V2 = {"https://www.w3.org/ns/credentials/examples/v2": {
    "@context": {"@vocab": "https://www.w3.org/ns/credentials/examples#"}}}


def make_instance(home: Path, base_url: str, database_url: str | None = None) -> dict:
    """A did:key instance at ``home`` with one OAuth client; returns its DID, client id and secret."""
    from issuer.web.clients import Clients
    from issuer.instance.folder import init_instance
    from issuer.awarding.issuing import Issuer
    from keys.ed25519 import KeyPair
    from keys.keystore import save_key

    settings = init_instance(home, name="Badgesmith VC API test issuer", url=base_url, email=None,
                             did_web=None, database_url=database_url)
    save_key(settings.keys_dir, settings.key_id, KeyPair.generate())
    with open(home / "badgesmith.toml", "a", encoding="utf-8") as toml:
        toml.write("\n[web]\nrate_limit = \"off\"\noffline = true\n")
    issuer = Issuer.open(home)
    try:
        created = Clients.for_issuer(issuer).add("w3c-suites", "issue,status")
        return {"did": issuer.did, "client_id": created.record.client_id, "client_secret": created.secret}
    finally:
        issuer.close()


def _self_signed(folder: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=30))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                               x509.DNSName("localhost")]), critical=False)
                   .sign(key, hashes.SHA256()))
    (folder / "tls.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "tls.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    os.chmod(folder / "tls.key", 0o600)


def local_config(base_url: str, did: str, client_id: str) -> str:
    """The suites' ``localConfig.cjs``: every endpoint, tagged for the four suites, with OAuth 2.0."""
    return f"""// Badgesmith on {base_url}: written by benchmarks/vc_api_server.py prepare.
// Run with NODE_TLS_REJECT_UNAUTHORIZED=0 and {SECRET_VARIABLE} set (see suite.env).
const baseUrl = process.env.BASE_URL || {json.dumps(base_url)};
const id = {json.dumps(did)};
module.exports = {{
  settings: {{enableInteropTests: false, testAllImplementations: false}},
  implementations: [{{
    name: 'Badgesmith',
    implementation: 'Badgesmith VC API',
    oauth2: {{
      clientId: {json.dumps(client_id)},
      clientSecret: {json.dumps(SECRET_VARIABLE)},
      tokenAudience: baseUrl,
      tokenEndpoint: `${{baseUrl}}/oauth/token`
    }},
    issuers: [{{
      id, endpoint: `${{baseUrl}}/credentials/issue`, supports: {{vc: ['1.1', '2.0']}},
      tags: ['eddsa-rdfc-2022', 'vc2.0']
    }}, {{
      id, endpoint: `${{baseUrl}}/credentials/issue`, tags: ['BitstringStatusList'],
      options: {{credentialStatus: {{type: 'BitstringStatusListEntry', statusPurpose: 'revocation'}}}}
    }}, {{
      id, endpoint: `${{baseUrl}}/ed25519-2020/credentials/issue`, supports: {{vc: ['1.1', '2.0']}},
      tags: ['Ed25519Signature2020']
    }}],
    verifiers: [{{
      id, endpoint: `${{baseUrl}}/credentials/verify`,
      tags: ['eddsa-rdfc-2022', 'vc2.0', 'BitstringStatusList', 'Ed25519Signature2020']
    }}],
    vpVerifiers: [{{id, endpoint: `${{baseUrl}}/presentations/verify`, tags: ['vc2.0']}}]
  }}]
}};
"""


def prepare(home: Path, port: int) -> None:
    base_url = f"https://127.0.0.1:{port}"
    made = make_instance(home, base_url)
    _self_signed(home)
    (home / "localConfig.cjs").write_text(local_config(base_url, made["did"], made["client_id"]), "utf-8")
    (home / DATA_MODEL_CONTEXTS).write_text(json.dumps(EXAMPLES_V2, indent=2) + "\n", "utf-8")
    env = home / "suite.env"
    env.write_text(f"export {SECRET_VARIABLE}={made['client_secret']}\nexport NODE_TLS_REJECT_UNAUTHORIZED=0\n",
                   "utf-8")
    os.chmod(env, 0o600)
    (home / "port").write_text(str(port), "utf-8")
    print(f"Prepared {home}: issuer {made['did']} on {base_url}")
    print(f"  copy {home / 'localConfig.cjs'} into each suite, then: source {env} && npm test")


def data_model_app():
    """The app of ``$BADGESMITH_HOME`` with the data-model suite's contexts (gunicorn's factory)."""
    from app import create_app

    home = Path(os.environ["BADGESMITH_HOME"])
    return create_app({"CONTEXTS": json.loads((home / DATA_MODEL_CONTEXTS).read_text("utf-8"))})


def serve(home: Path, data_model: bool = False) -> None:
    port = (home / "port").read_text("utf-8").strip()
    env = {**os.environ, "BADGESMITH_HOME": str(home), "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'benchmarks'}"}
    factory = "vc_api_server:data_model_app()" if data_model else "app:create_app()"
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
               "--certfile", str(home / "tls.crt"), "--keyfile", str(home / "tls.key"),
               "--log-level", "warning", factory]
    raise SystemExit(subprocess.call(command, cwd=ROOT, env=env))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["prepare", "serve"])
    parser.add_argument("home", type=Path)
    parser.add_argument("--port", type=int, default=40443)
    parser.add_argument("--data-model", action="store_true",
                        help="serve: add the contexts the VC Data Model 2.0 suite needs (that suite only)")
    args = parser.parse_args()
    if args.action == "prepare":
        prepare(args.home.resolve(), args.port)
    else:
        serve(args.home.resolve(), args.data_model)


if __name__ == "__main__":
    main()
