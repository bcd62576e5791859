"""The offline loader serves only pinned contexts, parsed once, and never the network."""

import pytest

from errors import Code, CredentialError
from schemas.loader import offline_loader, pinned_contexts

OB_303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


def test_loader_serves_pinned_context_in_pyld_shape():
    remote = offline_loader()(OB_303, {})
    assert remote["documentUrl"] == OB_303
    assert "@context" in remote["document"]


@pytest.mark.parametrize("url", [
    "https://example.com/evil-context.json",
    "https://www.w3.org/2018/credentials/examples/v2",  # the non-existent URL the spec's equality examples use
    "http://www.w3.org/ns/credentials/v2",  # exact URL match only: http is not https
    "",
])
def test_loader_refuses_unknown_urls_with_context_not_allowed(url):
    with pytest.raises(CredentialError) as caught:
        offline_loader()(url, {})
    assert caught.value.code is Code.CONTEXT_NOT_ALLOWED


def test_contexts_are_parsed_once_per_process():
    assert pinned_contexts() is pinned_contexts()
    assert offline_loader()(OB_303)["document"] is offline_loader()(OB_303)["document"]


def test_extra_documents_layer_on_top_without_changing_the_default_loader():
    extra = {"https://example.org/ctx": {"@context": {"x": "https://example.org/x"}}}
    assert "https://example.org/ctx" in offline_loader(extra)
    assert "https://example.org/ctx" not in offline_loader()


def test_loader_alias_for_ob_context_json():
    alias = "https://purl.imsglobal.org/spec/ob/v3p0/context/ob_v3p0.jsonld"
    main = "https://purl.imsglobal.org/spec/ob/v3p0/context.json"
    assert offline_loader().document(alias) == offline_loader().document(main)
