"""keys.ed25519: KeyPair and PublicKey, real keys, and no secret ever shown."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from errors import Code, InputError
from keys.ed25519 import KeyPair, PublicKey

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec"
W3C_KEYPAIR = json.loads((SPEC / "examples" / "w3c-vc-di-eddsa" / "keyPair.json").read_text("utf-8"))
IMPL_KEYPAIR = json.loads((SPEC / "examples" / "ob-v3p0-impl-guide-vector" / "keypair.json").read_text("utf-8"))
SEED = bytes(range(32))


@pytest.fixture
def key() -> KeyPair:
    return KeyPair.from_seed(SEED)


def _secrets(key: KeyPair) -> list[str]:
    """Every spelling of the private key that must never show up by accident."""
    pem = key.to_pem().decode()
    body = "".join(pem.splitlines()[1:-1])
    return [SEED.hex(), key.to_private_multibase(), key.to_private_jwk()["d"], body, repr(SEED)]


def test_w3c_vector_loads_and_reproduces_both_multibase_values():
    key = KeyPair.from_multibase(W3C_KEYPAIR["privateKeyMultibase"], W3C_KEYPAIR["publicKeyMultibase"])
    assert key.public_key.to_multikey() == W3C_KEYPAIR["publicKeyMultibase"]
    assert key.to_private_multibase() == W3C_KEYPAIR["privateKeyMultibase"]
    assert key.did_key == "did:key:" + W3C_KEYPAIR["publicKeyMultibase"]


def test_impl_guide_seed_gives_its_published_public_key():
    seed = bytes.fromhex(IMPL_KEYPAIR["privateKeyHex (seed||public, 64 bytes)"])[:32]
    assert KeyPair.from_seed(seed).public_key.to_multikey() == IMPL_KEYPAIR["publicKeyMultibase"]


def test_from_multibase_with_a_foreign_public_key_is_refused():
    other = KeyPair.generate().public_key.to_multikey()
    with pytest.raises(InputError) as caught:
        KeyPair.from_multibase(W3C_KEYPAIR["privateKeyMultibase"], other)
    assert caught.value.code is Code.KEY_INVALID


def test_generate_gives_distinct_keys_that_sign_and_verify():
    first, second = KeyPair.generate(), KeyPair.generate()
    assert first != second
    signature = first.sign(b"hello")
    assert len(signature) == 64
    assert first.public_key.verify(signature, b"hello")
    assert not second.public_key.verify(signature, b"hello")
    assert not first.public_key.verify(signature, b"hello!")


def test_sign_is_deterministic(key):
    assert key.sign(b"data") == key.sign(b"data")


@pytest.mark.parametrize("signature", [b"", bytes(63), bytes(65), bytes(64), "not bytes"])
def test_verify_returns_false_for_malformed_signatures(key, signature):
    assert key.public_key.verify(signature, b"data") is False


@settings(max_examples=200, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), data=st.binary(max_size=300), flip=st.integers(0, 64 * 8 - 1))
def test_libsodium_signs_the_same_bytes_as_openssl_and_agrees_on_verifying(seed, data, flip):
    # Signing moved from OpenSSL (cryptography) to libsodium (PyNaCl) for speed: every
    # signature must stay byte-identical, and both must judge honest keys' signatures alike.
    key = KeyPair.from_seed(seed)
    openssl = Ed25519PrivateKey.from_private_bytes(seed)
    signature = key.sign(data)
    assert signature == openssl.sign(data)
    assert key.public_key.verify(signature, data)
    tampered = bytearray(signature)
    tampered[flip // 8] ^= 1 << (flip % 8)
    try:
        Ed25519PublicKey.from_public_bytes(key.public_key.raw).verify(bytes(tampered), data)
        openssl_accepts = True
    except InvalidSignature:
        openssl_accepts = False
    assert key.public_key.verify(bytes(tampered), data) is openssl_accepts is False
    assert key.public_key.verify(signature, data + b"x") is False


IDENTITY = b"\x01" + bytes(31)  # the neutral point: a public key of order 1
SMALL_ORDER_KEYS = [IDENTITY, bytes(32), b"\xec" + b"\xff" * 30 + b"\x7f", b"\xff" * 31 + b"\x7f"]


@pytest.mark.parametrize("raw", SMALL_ORDER_KEYS, ids=["identity", "order-4", "order-2", "non-canonical"])
def test_small_order_and_non_canonical_public_keys_verify_nothing(raw):
    # With the identity as public key, R = identity and s = 0 "sign" every message: OpenSSL
    # accepts that forgery, libsodium (what Badgesmith verifies with) refuses it, cleanly.
    forged = IDENTITY + bytes(32)
    if raw == IDENTITY:
        Ed25519PublicKey.from_public_bytes(raw).verify(forged, b"any message")  # OpenSSL: "valid"
    public = PublicKey(raw)
    for signature in (forged, bytes(64), b"\xff" * 64, KeyPair.from_seed(SEED).sign(b"m")):
        assert public.verify(signature, b"any message") is False
        assert public.verify(signature, b"m") is False


def test_pem_round_trip_unencrypted(key):
    pem = key.to_pem()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert KeyPair.from_pem(pem) == key


def test_pem_round_trip_with_passphrase(key):
    pem = key.to_pem("correct horse")
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert SEED.hex() not in pem.decode()
    assert KeyPair.from_pem(pem, "correct horse") == key
    assert KeyPair.from_pem(pem, b"correct horse") == key


def test_from_pem_encrypted_without_passphrase_is_locked(key):
    with pytest.raises(InputError) as caught:
        KeyPair.from_pem(key.to_pem("secret"))
    assert caught.value.code is Code.KEY_LOCKED


def test_from_pem_wrong_passphrase_is_locked(key):
    with pytest.raises(InputError) as caught:
        KeyPair.from_pem(key.to_pem("secret"), "guess")
    assert caught.value.code is Code.KEY_LOCKED
    assert "guess" not in str(caught.value) and "secret" not in str(caught.value)


def test_from_pem_unencrypted_with_passphrase_is_refused(key):
    with pytest.raises(InputError) as caught:
        KeyPair.from_pem(key.to_pem(), "secret")
    assert caught.value.code is Code.KEY_INVALID


def test_to_pem_with_empty_passphrase_is_refused(key):
    with pytest.raises(InputError):
        key.to_pem("")


@pytest.mark.parametrize("factory", [
    lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    lambda: ec.generate_private_key(ec.SECP256R1()),
], ids=["rsa", "p256"])
def test_from_pem_with_another_key_type_is_refused(factory):
    pem = factory().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    with pytest.raises(InputError) as caught:
        KeyPair.from_pem(pem)
    assert caught.value.code is Code.KEY_INVALID
    assert "Ed25519" in str(caught.value)


def test_from_pem_with_a_public_key_or_garbage_is_invalid_and_quotes_nothing(key):
    public_pem = KeyPair.generate()._private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    broken = key.to_pem()[:-40] + b"\n-----END PRIVATE KEY-----\n"
    for data in (public_pem, b"not a key", broken, b""):
        with pytest.raises(InputError) as caught:
            KeyPair.from_pem(data)
        assert caught.value.code is Code.KEY_INVALID
        assert all(secret not in str(caught.value) for secret in _secrets(key))


def test_jwk_round_trip(key):
    jwk = key.to_private_jwk()
    assert set(jwk) == {"kty", "crv", "x", "d"}
    assert KeyPair.from_jwk(jwk) == key
    assert key.public_key.to_jwk() == {k: v for k, v in jwk.items() if k != "d"}
    assert PublicKey.from_jwk(key.public_key.to_jwk()) == key.public_key


@pytest.mark.parametrize("jwk", [
    {"kty": "OKP", "crv": "Ed25519"},
    {"kty": "OKP", "crv": "X25519", "d": "AA"},
    {"kty": "RSA", "d": "AA"},
    {"kty": "OKP", "crv": "Ed25519", "d": "AAAA"},
    {"kty": "OKP", "crv": "Ed25519", "d": "AAE="},
    "not a dict",
])
def test_keypair_from_bad_jwk_is_invalid(jwk):
    with pytest.raises(InputError) as caught:
        KeyPair.from_jwk(jwk)
    assert caught.value.code is Code.KEY_INVALID


def test_keypair_from_jwk_with_foreign_x_is_refused(key):
    jwk = {**key.to_private_jwk(), "x": KeyPair.generate().public_key.to_jwk()["x"]}
    with pytest.raises(InputError):
        KeyPair.from_jwk(jwk)


def test_public_key_from_jwk_with_private_part_is_refused(key):
    with pytest.raises(InputError) as caught:
        PublicKey.from_jwk(key.to_private_jwk())
    assert caught.value.code is Code.KEY_INVALID


def test_public_key_multikey_round_trip_and_value_semantics(key):
    multikey = key.public_key.to_multikey()
    assert multikey.startswith("z6Mk")
    assert PublicKey.from_multikey(multikey) == key.public_key
    assert hash(PublicKey.from_multikey(multikey)) == hash(key.public_key)
    assert repr(key.public_key) == f"PublicKey({multikey!r})"


@pytest.mark.parametrize("raw", [bytes(31), bytes(33), "x" * 32, None])
def test_public_key_needs_32_bytes(raw):
    with pytest.raises(InputError):
        PublicKey(raw)


@pytest.mark.parametrize("seed", [bytes(31), bytes(33), None])
def test_from_seed_needs_32_bytes(seed):
    with pytest.raises(InputError):
        KeyPair.from_seed(seed)


def test_repr_and_str_show_only_the_public_key(key):
    for text in (repr(key), str(key), f"{key}", repr([key]), repr({"k": key})):
        assert key.public_key.to_multikey() in text
        assert all(secret not in text for secret in _secrets(key))


def test_keypair_cannot_be_pickled(key):
    with pytest.raises(TypeError, match="keystore"):
        pickle.dumps(key)


def test_copies_are_the_same_immutable_key(key):
    assert copy.copy(key) is key
    assert copy.deepcopy(key) is key
    assert copy.deepcopy({"key": key})["key"] is key


def test_keypair_is_frozen(key):
    with pytest.raises(AttributeError):
        key.public_key = KeyPair.generate().public_key  # type: ignore[misc]


def test_keypair_equality_and_hash(key):
    again = KeyPair.from_seed(SEED)
    assert key == again and hash(key) == hash(again)
    assert key != KeyPair.generate()
    assert key != "a key"
