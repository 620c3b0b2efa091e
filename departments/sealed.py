"""Bytes sealed under a one-time key that the server does not keep.

The initial passwords of an import, and an uploaded accounts workbook awaiting its
confirmation, are held in the database (session, preview table) only sealed; the key
travels in the page that asks for them back (a hidden field of a POST form, on a page
that is never cached). The database alone, or a backup of it, reveals nothing.

The cipher is ``cryptography``'s Fernet (AES-128-CBC with an HMAC-SHA256 tag): a wrong key
or a changed text is refused, never decrypted into garbage.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken


def seal(data: bytes) -> tuple[str, bytes]:
    """A fresh key (URL-safe text, for the page) and ``data`` sealed under it (for storage)."""
    key = Fernet.generate_key()
    return key.decode("ascii"), Fernet(key).encrypt(data)


def unseal(key_text: str, sealed: bytes) -> bytes | None:
    """The data sealed under ``key_text``; None for a wrong key or damaged data."""
    try:
        return Fernet(key_text.encode("ascii")).decrypt(sealed)
    except (InvalidToken, ValueError, TypeError, UnicodeEncodeError):
        return None
