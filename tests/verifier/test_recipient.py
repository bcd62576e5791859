"""verifier.recipient: the OB 3.0 IdentityHash format and e-mail matching (OB B.7, §9.3)."""

import hashlib

from verifier.recipient import identity_hash, matches_identity, matches_subject


def _identity(identity_hash_value, salt=None, hashed=True, identity_type="emailAddress"):
    obj = {"type": "IdentityObject", "identityHash": identity_hash_value, "identityType": identity_type,
           "hashed": hashed}
    if salt is not None:
        obj["salt"] = salt
    return obj


def test_identity_hash_matches_the_spec_example():
    """OB B.7: a@example.com with salt "Kosher" (CHECKLIST §3, re-computed)."""
    value = identity_hash("a@example.com", "Kosher")
    assert value.startswith("sha256$b5809d8a")
    assert value.endswith("f399")
    assert value == "sha256$" + hashlib.sha256(b"a@example.comKosher").hexdigest()


def test_identity_hash_unsalted_and_md5():
    assert identity_hash("a@example.com") == "sha256$" + hashlib.sha256(b"a@example.com").hexdigest()
    assert identity_hash("a@example.com", "s", algorithm="md5") == "md5$" + hashlib.md5(b"a@example.coms").hexdigest()


def test_matches_identity_salted_sha256():
    assert matches_identity(_identity(identity_hash("ana@example.org", "pepper"), "pepper"), "ana@example.org")


def test_matches_identity_is_case_insensitive_in_hex_and_in_address():
    value = identity_hash("ana@example.org", "pepper")
    identity = _identity("SHA256$" + value.split("$")[1].upper(), "pepper")
    assert matches_identity(identity, "  Ana@Example.ORG ")


def test_matches_identity_accepts_an_issuer_that_did_not_lowercase():
    identity = _identity(identity_hash("Ana@Example.org", "s"), "s")
    assert matches_identity(identity, "Ana@Example.org")


def test_matches_identity_unsalted_and_md5_forms():
    assert matches_identity(_identity(identity_hash("ana@example.org")), "ana@example.org")
    assert matches_identity(_identity(identity_hash("ana@example.org", "x", algorithm="md5"), "x"),
                            "ana@example.org")


def test_matches_identity_plaintext_when_not_hashed():
    assert matches_identity(_identity("Ana@example.org", hashed=False), "ana@EXAMPLE.org")
    assert not matches_identity(_identity("bo@example.org", hashed=False), "ana@example.org")


def test_matches_identity_rejects_other_addresses_salts_and_types():
    identity = _identity(identity_hash("ana@example.org", "pepper"), "pepper")
    assert not matches_identity(identity, "bo@example.org")
    assert not matches_identity({**identity, "salt": "salt"}, "ana@example.org")
    assert not matches_identity({**identity, "identityType": "name"}, "ana@example.org")


def test_matches_identity_malformed_input_never_matches_or_raises():
    good = identity_hash("ana@example.org", "s")
    for bad in [None, "x", {}, _identity(good.replace("sha256", "sha1"), "s"), _identity("nodollar", "s"),
                _identity(good, 5), {**_identity(good, "s"), "hashed": "true"}, _identity(42, "s")]:
        assert not matches_identity(bad, "ana@example.org")
    assert not matches_identity(_identity(good, "s"), "")


def test_matches_subject_accepts_a_list_or_a_single_identifier():
    identity = _identity(identity_hash("ana@example.org", "s"), "s")
    name = _identity("Ana Lima", hashed=False, identity_type="name")
    assert matches_subject({"identifier": [name, identity]}, "ana@example.org")
    assert matches_subject({"identifier": identity}, "ana@example.org")
    assert not matches_subject({"identifier": [name]}, "ana@example.org")
    assert not matches_subject({"id": "did:example:1"}, "ana@example.org")


# -- one normal form for both sides (issue 12) ---------------------------------------------------------------

NFC, NFD = "jos\u00e9@example.org", "jose\u0301@example.org"


def test_normalise_email_is_stripped_nfc_lower_case():
    from verifier.recipient import normalise_email

    assert normalise_email(f"  {NFD.upper()}\n") == NFC
    assert normalise_email("STRASSE@EXAMPLE.ORG") == "strasse@example.org"
    assert normalise_email("Straße@example.org") == "straße@example.org"  # lower, not casefold: hashes stay as issued


def test_issuer_normalises_with_the_verifiers_function():
    from issuer.badge.recipient import normalise_email as issuing
    from verifier.recipient import normalise_email as reading

    for typed in (NFD, NFD.upper(), f" {NFC} ", "Ana@Example.ORG"):
        assert issuing(typed) == reading(typed)


def test_matches_identity_an_nfd_address_matches_a_hash_of_the_nfc_form():
    identity = _identity(identity_hash(NFC, "pepper"), "pepper")
    assert matches_identity(identity, NFD) and matches_identity(identity, NFD.upper())


def test_matches_identity_an_issuer_that_hashed_nfd_as_typed_still_matches():
    assert matches_identity(_identity(identity_hash(NFD, "s"), "s"), NFD)


def test_matches_identity_plaintext_compares_normal_forms():
    assert matches_identity(_identity(NFC, hashed=False), NFD)
    assert matches_identity(_identity(NFD.upper(), hashed=False), NFC)


def test_matches_subject_a_mailto_id_matches_in_normal_form():
    assert matches_subject({"id": "mailto:Jos%C3%A9@Example.org"}, NFD)
    assert matches_subject({"id": f"MAILTO:{NFD}?subject=x"}, NFC)
    assert not matches_subject({"id": "mailto:bo@example.org"}, NFC)
    assert not matches_subject({"id": f"https://example.org/{NFC}"}, NFC)
