"""The English-word check of everything a Vietnamese reader gets (exports, HTML map, browser panel)."""
from __future__ import annotations

import re

#: Common English words of the old outputs; none of them is a Vietnamese word written without diacritics.
ENGLISH = frozenset("""
the of and with by from or are was has this not sum members member threshold thresholds ward wards commune
communes township area population density total standard standards pass passes fail fails exempt missing unknown
data computed official people merged notes note warning warnings source estimate kind district province city
town res art news baseline below must amended confirmed shown units none null true false nan column geodesic
contiguous parts share name code result results status legend outline green red grey
""".split())
WORD = re.compile(r"[^\W\d_]+")
# "units.geojson:population": a source file and its column are identifiers, quoted as they are
FILE_COLUMN = re.compile(r"[\w.-]+\.(?:geojson|gpkg|shp|zip|csv|xlsx|tif|tiff)(?::[\w.-]+)?", re.I)


def english_words(text: str) -> list[str]:
    """The words of ``text`` found in the English list (proper names, units and codes are not in it)."""
    return [word for word in WORD.findall(FILE_COLUMN.sub(" ", text)) if word.lower() in ENGLISH]


def check_texts(texts: list[str], where: str) -> None:
    found = {text: english_words(text) for text in texts}
    assert {text: words for text, words in found.items() if words} == {}, f"English words in {where}"
    assert [text for text in texts if ">=" in text or "<=" in text] == [], where
    assert [text for text in texts if re.search(r"\bn\d+\b", text)] == [], f"internal ids in {where}"
    # a figure with more decimals than any display uses is a raw, unrounded number
    assert [text for text in texts if re.search(r"\d[.,]\d{4,}", text)] == [], f"unrounded figures in {where}"
