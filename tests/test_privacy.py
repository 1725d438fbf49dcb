"""ID numbers at rest: HMAC tokens, AES-GCM field encryption, and the key file."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import threading
from pathlib import Path

import pytest

from hub.errors import CiphertextInvalid, FailedPrecondition, InvalidArgument
from hub.privacy import (
    SECRETS_FILE,
    FieldCipher,
    Secrets,
    Tokenizer,
    load_secrets,
    read_key_file,
    write_key_file,
)

KEY1 = bytes(range(32))
KEY2 = bytes(range(32, 64))
ID = "11010519491231002X"
AAD = b"roster_members.id_number"


def reference_token(key: bytes, number: str) -> bytes:
    return hmac.new(key, number.encode(), hashlib.sha256).digest()[:16]


# --- Tokenizer --------------------------------------------------------------------------------------------


def test_token_is_truncated_hmac_sha256_of_the_number() -> None:
    tokenizer = Tokenizer({1: KEY1}, 1)
    assert tokenizer.token(ID) == reference_token(KEY1, ID)
    assert len(tokenizer.token(ID)) == 16


def test_tokens_are_deterministic_and_keyed() -> None:
    assert Tokenizer({1: KEY1}, 1).token(ID) == Tokenizer({1: KEY1}, 1).token(ID)
    assert Tokenizer({1: KEY1}, 1).token(ID) != Tokenizer({1: KEY2}, 1).token(ID)
    assert Tokenizer({1: KEY1}, 1).token(ID) != Tokenizer({1: KEY1}, 1).token("440308199901101512")


@pytest.mark.parametrize("spelling", [" 11010519491231002X", "11010519491231002x", "11010519491231002X\n"])
def test_token_normalises_the_form(spelling: str) -> None:
    tokenizer = Tokenizer({1: KEY1}, 1)
    assert tokenizer.token(spelling) == tokenizer.token(ID)


def test_legacy_number_gets_the_token_of_its_upgrade() -> None:
    tokenizer = Tokenizer({1: KEY1}, 1)
    assert tokenizer.token("610104620927690") == tokenizer.token("610104196209276908")


@pytest.mark.parametrize("bad", ["", "1101051949123100", "11010519491231002Y", "1101051949123100２X"])
def test_token_refuses_what_is_not_an_id_number_without_echoing_it(bad: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        Tokenizer({1: KEY1}, 1).token(bad)
    assert caught.value.metadata["problem"] == "format"
    assert len(bad) < 14 or bad not in str(caught.value)


def test_rotation_keeps_old_versions_readable() -> None:
    tokenizer = Tokenizer({1: KEY1}, 1)
    old = tokenizer.token(ID)
    assert tokenizer.rotate() == 2
    assert tokenizer.current_version == 2 and tokenizer.versions == (1, 2)
    assert tokenizer.token(ID) != old
    assert tokenizer.token_with(1, ID) == old
    assert tokenizer.retokenize(1, ID) == (old, tokenizer.token(ID))


def test_retire_forgets_an_old_version_but_never_the_current_one() -> None:
    tokenizer = Tokenizer({1: KEY1, 2: KEY2}, 2)
    with pytest.raises(FailedPrecondition):
        tokenizer.retire(2)
    tokenizer.retire(1)
    assert tokenizer.versions == (2,)
    with pytest.raises(FailedPrecondition):
        tokenizer.token_with(1, ID)
    with pytest.raises(FailedPrecondition):
        tokenizer.retire(1)


@pytest.mark.parametrize(
    ("keys", "current"),
    [({1: KEY1}, 2), ({1: KEY1[:16]}, 1), ({0: KEY1}, 0), ({256: KEY1}, 256), ({}, 1)],
)
def test_bad_key_sets_are_refused(keys: dict[int, bytes], current: int) -> None:
    with pytest.raises(ValueError):
        Tokenizer(keys, current)


def test_key_check_identifies_a_key_without_revealing_it() -> None:
    assert Tokenizer({1: KEY1}, 1).key_check() == Tokenizer({1: KEY1}, 1).key_check()
    assert Tokenizer({1: KEY1}, 1).key_check() != Tokenizer({1: KEY2}, 1).key_check()
    assert Tokenizer({1: KEY1, 2: KEY2}, 2).key_check(1) == Tokenizer({1: KEY1}, 1).key_check()


# --- FieldCipher ------------------------------------------------------------------------------------------


def test_encrypt_round_trips_and_is_randomised() -> None:
    cipher = FieldCipher({1: KEY1}, 1)
    first, second = cipher.encrypt("张三 " + ID, AAD), cipher.encrypt("张三 " + ID, AAD)
    assert first != second
    assert cipher.decrypt(first, AAD) == cipher.decrypt(second, AAD) == "张三 " + ID
    assert ID.encode() not in first
    assert first[0] == 1 and len(first) == 1 + 12 + len(("张三 " + ID).encode()) + 16


def test_ciphertext_moved_to_another_column_does_not_decrypt() -> None:
    cipher = FieldCipher({1: KEY1}, 1)
    with pytest.raises(CiphertextInvalid):
        cipher.decrypt(cipher.encrypt(ID, AAD), b"feed_rows.id_number")


def test_any_altered_byte_is_detected() -> None:
    cipher = FieldCipher({1: KEY1, 2: KEY2}, 1)
    blob = cipher.encrypt(ID, AAD)
    for position in range(len(blob)):
        altered = bytearray(blob)
        altered[position] ^= 0x01
        with pytest.raises(CiphertextInvalid) as caught:
            cipher.decrypt(bytes(altered), AAD)
        assert ID not in str(caught.value)


@pytest.mark.parametrize("cut", [0, 1, 13, 28])
def test_truncated_blobs_are_refused(cut: int) -> None:
    cipher = FieldCipher({1: KEY1}, 1)
    with pytest.raises(CiphertextInvalid):
        cipher.decrypt(cipher.encrypt("", AAD)[:cut], AAD)


def test_unknown_key_version_is_refused() -> None:
    blob = FieldCipher({1: KEY1, 2: KEY2}, 2).encrypt(ID, AAD)
    with pytest.raises(CiphertextInvalid, match="key version 2"):
        FieldCipher({1: KEY1}, 1).decrypt(blob, AAD)


def test_cipher_rotation_and_reencryption() -> None:
    cipher = FieldCipher({1: KEY1}, 1)
    old = cipher.encrypt(ID, AAD)
    cipher.rotate()
    assert cipher.decrypt(old, AAD) == ID
    moved = cipher.reencrypt(old, AAD)
    assert FieldCipher.version_of(old) == 1 and FieldCipher.version_of(moved) == 2
    cipher.retire(1)
    assert cipher.decrypt(moved, AAD) == ID
    with pytest.raises(CiphertextInvalid):
        cipher.decrypt(old, AAD)


def test_associated_data_is_required() -> None:
    with pytest.raises(ValueError):
        FieldCipher({1: KEY1}, 1).encrypt(ID, b"")


# --- the key file -----------------------------------------------------------------------------------------


def test_load_secrets_creates_a_private_key_file_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = load_secrets(data_dir)
    path = data_dir / SECRETS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_secrets(data_dir)
    assert again.tokenizer.token(ID) == first.tokenizer.token(ID)
    assert again.cipher.decrypt(first.cipher.encrypt(ID, AAD), AAD) == ID
    document = json.loads(path.read_text())
    assert len(base64.b64decode(document["tokens"]["keys"]["1"])) == 32
    assert not list(data_dir.glob(".*.tmp"))


def test_concurrent_first_use_agrees_on_one_key(tmp_path: Path) -> None:
    checks: list[str] = []

    def start() -> None:
        checks.append(load_secrets(tmp_path).tokenizer.key_check())

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checks) == 8 and len(set(checks)) == 1


def test_exclusive_write_never_replaces_a_key_file(tmp_path: Path) -> None:
    path = tmp_path / SECRETS_FILE
    write_key_file(path, Secrets.generate().to_document(), exclusive=True)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        write_key_file(path, Secrets.generate().to_document(), exclusive=True)
    assert path.read_bytes() == before


def test_rotation_survives_save_and_load(tmp_path: Path) -> None:
    secrets = load_secrets(tmp_path)
    blob = secrets.cipher.encrypt(ID, AAD)
    secrets.tokenizer.rotate()
    secrets.save(tmp_path / SECRETS_FILE)
    loaded = load_secrets(tmp_path)
    assert loaded.tokenizer.current_version == 2
    assert loaded.tokenizer.token(ID) == secrets.tokenizer.token(ID)
    assert loaded.cipher.decrypt(blob, AAD) == ID


def test_one_key_set_saves_without_touching_the_other(tmp_path: Path) -> None:
    path = tmp_path / SECRETS_FILE
    secrets = load_secrets(tmp_path)
    tokenizer = Tokenizer.load(path)
    tokenizer.rotate()
    tokenizer.save(path)
    assert Tokenizer.load(path).current_version == 2
    assert FieldCipher.load(path).decrypt(secrets.cipher.encrypt(ID, AAD), AAD) == ID
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    load_secrets(tmp_path)
    (tmp_path / SECRETS_FILE).chmod(0o644)
    with pytest.raises(FailedPrecondition, match="chmod 600"):
        load_secrets(tmp_path)


@pytest.mark.parametrize(
    "content",
    ["not json", "[]", '{"format": 2}', '{"format": 1}', '{"format": 1, "tokens": {"current": 1, "keys": {"1": "!"}}}'],
)
def test_a_damaged_key_file_is_reported(tmp_path: Path, content: str) -> None:
    path = tmp_path / SECRETS_FILE
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(FailedPrecondition, match="key file"):
        Secrets.load(path)


def test_read_key_file_returns_the_document(tmp_path: Path) -> None:
    path = tmp_path / SECRETS_FILE
    document = Secrets.generate().to_document()
    write_key_file(path, document)
    assert read_key_file(path) == document


def test_every_token_gives_the_current_key_first_then_every_older_one_held() -> None:
    tokenizer = Tokenizer.generate()
    first = tokenizer.token("11010519491231002X")
    tokenizer.rotate()
    tokenizer.rotate()
    tokens = tokenizer.every_token("11010519491231002X")
    assert tokens[0] == tokenizer.token("11010519491231002X") and tokens[-1] == first and len(set(tokens)) == 3
    tokenizer.retire(1)
    assert first not in tokenizer.every_token("11010519491231002X")
