"""Bytes sealed under a one-time key that the server does not keep.

The initial passwords of an import, and an uploaded accounts workbook awaiting its
confirmation, are held in the database (session, preview table) only sealed; the key
travels in the page that asks for them back (a hidden field of a POST form, on a page
that is never cached). The database alone, or a backup of it, reveals nothing.

Each key seals one text once, so a keystream of SHAKE-256 over the key is a sound
cipher; an HMAC-SHA256 tag refuses a wrong key or a changed text. Standard library only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

KEY_BYTES = 32
_TAG_BYTES = 32


def _keys(key: bytes) -> tuple[bytes, bytes]:
    return hashlib.sha256(b"seal:stream:" + key).digest(), hashlib.sha256(
        b"seal:mac:" + key
    ).digest()


def _xor(data: bytes, stream_key: bytes) -> bytes:
    stream = hashlib.shake_256(stream_key).digest(len(data))
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(len(data), "big")


def seal(data: bytes) -> tuple[str, bytes]:
    """A fresh key (URL-safe text, for the page) and ``data`` sealed under it (for storage)."""
    key = secrets.token_bytes(KEY_BYTES)
    stream_key, mac_key = _keys(key)
    body = _xor(data, stream_key)
    tag = hmac.new(mac_key, body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(key).decode("ascii"), tag + body


def unseal(key_text: str, sealed: bytes) -> bytes | None:
    """The data sealed under ``key_text``; None for a wrong key or damaged data."""
    try:
        key = base64.urlsafe_b64decode(key_text.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    if len(key) != KEY_BYTES or len(sealed) < _TAG_BYTES:
        return None
    stream_key, mac_key = _keys(key)
    tag, body = sealed[:_TAG_BYTES], sealed[_TAG_BYTES:]
    if not hmac.compare_digest(tag, hmac.new(mac_key, body, hashlib.sha256).digest()):
        return None
    return _xor(body, stream_key)
