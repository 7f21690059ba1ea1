"""Vietnamese text helpers: diacritic-insensitive folding for search and matching."""
from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower-case, strip diacritics (đ → d) and collapse spaces: "Đức  Xuân" → "duc xuan"."""
    text = unicodedata.normalize("NFD", text or "")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    text = text.replace("đ", "d").replace("Đ", "D").lower()
    return " ".join(text.split())


def nfc(text: str) -> str:
    """Unicode NFC, the form Vietnamese text is stored in."""
    return unicodedata.normalize("NFC", text)
