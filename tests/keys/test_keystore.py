"""keys.keystore: private key files are 0600, atomic, optionally encrypted, never quoted."""

from __future__ import annotations

import os
import stat

import pytest

from errors import Code, ConfigError, Conflict, InputError, NotFound
from keys.ed25519 import KeyPair
from keys.keystore import key_path, list_keys, load_key, save_key

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


@pytest.fixture
def key() -> KeyPair:
    return KeyPair.from_seed(bytes(range(32)))


@pytest.fixture
def keys_dir(tmp_path):
    return tmp_path / "instance" / "keys"


def test_save_then_load_round_trips(keys_dir, key):
    path = save_key(keys_dir, "issuer-2025", key)
    assert path == keys_dir / "issuer-2025.pem"
    assert load_key(keys_dir, "issuer-2025") == key


@posix_only
def test_saved_key_file_is_mode_0600_and_directory_0700(keys_dir, key):
    path = save_key(keys_dir, "issuer", key)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(keys_dir).st_mode) == 0o700


@posix_only
def test_saved_key_is_0600_even_under_a_permissive_umask(keys_dir, key):
    previous = os.umask(0)
    try:
        path = save_key(keys_dir, "issuer", key)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_save_leaves_no_temporary_files(keys_dir, key):
    save_key(keys_dir, "one", key)
    save_key(keys_dir, "two", KeyPair.generate())
    assert sorted(p.name for p in keys_dir.iterdir()) == ["one.pem", "two.pem"]


def test_save_over_an_existing_key_is_a_conflict_and_keeps_the_old_key(keys_dir, key):
    save_key(keys_dir, "issuer", key)
    with pytest.raises(Conflict) as caught:
        save_key(keys_dir, "issuer", KeyPair.generate())
    assert caught.value.code is Code.KEY_EXISTS
    assert load_key(keys_dir, "issuer") == key
    assert [p.name for p in keys_dir.iterdir()] == ["issuer.pem"]


def test_passphrase_encrypts_the_file(keys_dir, key):
    path = save_key(keys_dir, "locked", key, passphrase="correct horse")
    assert path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert load_key(keys_dir, "locked", passphrase="correct horse") == key


@pytest.mark.parametrize("passphrase", [None, "wrong"])
def test_load_locked_key_without_right_passphrase_names_file_not_content(keys_dir, key, passphrase):
    path = save_key(keys_dir, "locked", key, passphrase="correct horse")
    with pytest.raises(ConfigError) as caught:
        load_key(keys_dir, "locked", passphrase=passphrase)
    assert caught.value.code is Code.KEY_LOCKED
    assert str(path) in str(caught.value)
    assert caught.value.details["file"] == str(path)
    body = "".join(path.read_text().splitlines()[1:-1])
    assert body[:20] not in str(caught.value) and "correct horse" not in str(caught.value)


def test_load_missing_key_is_not_found(keys_dir):
    with pytest.raises(NotFound) as caught:
        load_key(keys_dir, "nope")
    assert caught.value.code is Code.KEY_NOT_FOUND
    assert "nope" in str(caught.value)


def test_load_corrupt_file_is_invalid_and_quotes_nothing(keys_dir, key):
    path = save_key(keys_dir, "issuer", key)
    pem = path.read_bytes()
    path.write_bytes(pem[:60])
    os.chmod(path, 0o600)
    with pytest.raises(ConfigError) as caught:
        load_key(keys_dir, "issuer")
    assert caught.value.code is Code.KEY_INVALID
    assert str(path) in str(caught.value)
    assert pem[28:60].decode() not in str(caught.value)


@posix_only
def test_load_refuses_a_key_file_others_can_read(keys_dir, key):
    path = save_key(keys_dir, "issuer", key)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError) as caught:
        load_key(keys_dir, "issuer")
    assert caught.value.code is Code.KEY_INVALID
    assert "chmod 600" in str(caught.value)


def test_load_refuses_an_oversized_file(keys_dir):
    keys_dir.mkdir(parents=True)
    path = keys_dir / "big.pem"
    path.write_bytes(b"A" * (64 * 1024 + 10))
    os.chmod(path, 0o600)
    with pytest.raises(ConfigError):
        load_key(keys_dir, "big")


@pytest.mark.parametrize("name", ["", "../escape", "a/b", ".hidden", "x.pem", "a" * 65, "sp ace", None])
def test_key_names_that_could_escape_or_hide_are_refused(keys_dir, key, name):
    with pytest.raises(InputError):
        save_key(keys_dir, name, key)
    with pytest.raises(InputError):
        key_path(keys_dir, name)


def test_list_keys_lists_saved_names_sorted(keys_dir, key):
    assert list_keys(keys_dir) == []
    save_key(keys_dir, "b-key", key)
    save_key(keys_dir, "a-key", KeyPair.generate())
    (keys_dir / "notes.txt").write_text("not a key")
    (keys_dir / ".tmp-abandoned.pem").write_text("half")
    assert list_keys(keys_dir) == ["a-key", "b-key"]
