"""Signed notes and checkpoints, pinned to the example of Go's golang.org/x/mod/sumdb/note (the
reference implementation of c2sp.org/signed-note): same key text, same key ID, same bytes."""

from __future__ import annotations

import base64

import pytest

from gateway.audit.note import (
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    open_checkpoint,
    open_note,
)

SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
TEXT = ("If you think cryptography is the answer to your problem,\n"
        "then you don't know what your problem is.\n")
SIGNED = TEXT + ("\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2"
                 "pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")


def test_the_reference_example() -> None:
    signer = Signer.parse(SKEY)
    assert signer.text() == SKEY
    assert signer.verifier.text() == VKEY
    assert signer.verifier.key_id.hex() == "c74f20a3"
    assert signer.sign(TEXT) == SIGNED
    assert open_note(SIGNED, [Verifier.parse(VKEY)]) == TEXT


def test_a_changed_text_or_signature_is_rejected() -> None:
    verifier = Verifier.parse(VKEY)
    with pytest.raises(NoteError, match="^the signature by PeterNeumann does not verify$"):
        open_note(SIGNED.replace("cryptography", "cryptographY"), [verifier])
    other = Signer.generate("PeterNeumann")  # same name, other key: an unknown key
    with pytest.raises(NoteError, match="^no signature by a known key$"):
        open_note(other.sign(TEXT), [verifier])
    with pytest.raises(NoteError, match="^not a signed note"):
        open_note(TEXT, [verifier])


def test_unknown_signatures_are_ignored() -> None:
    other = Signer.generate("witness.example/w1")
    cosigned = SIGNED + other.sign(TEXT).split("\n\n")[1]
    assert open_note(cosigned, [Verifier.parse(VKEY)]) == TEXT
    assert open_note(cosigned, [other.verifier]) == TEXT


def test_checkpoint_body_round_trip() -> None:
    signer = Signer.generate("example.org/log")
    checkpoint = Checkpoint("example.org/log", 20852163, bytes(range(32)))
    assert checkpoint.text() == ("example.org/log\n20852163\n"
                                 f"{base64.b64encode(bytes(range(32))).decode()}\n")
    assert open_checkpoint(signer.sign(checkpoint.text()), [signer.verifier]) == checkpoint


@pytest.mark.parametrize("text,problem", [
    ("o\n01\nAAAA\n", "tree size"),
    ("o\n1\nAAAA\n", "32 bytes"),
    ("o\n1\n" + "A" * 44 + "\next\n", "three lines"),
    ("o\n\n" + "A" * 44 + "\n", "three lines"),
    ("o\n1\n!!\n", "not base64"),
])
def test_malformed_checkpoints(text: str, problem: str) -> None:
    with pytest.raises(NoteError, match=problem):
        Checkpoint.parse(text)


@pytest.mark.parametrize("key,problem", [
    ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
    ("PeterNeumann+c74f20a3", "3 fields"),
    ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key name"),
    ("PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "not base64"),
])
def test_malformed_verifier_keys(key: str, problem: str) -> None:
    with pytest.raises(NoteError, match=problem):
        Verifier.parse(key)
