"""One language catalogue for everything a person reads: Python outputs and the web app.

Messages are keys with ``{name}`` parameters, one JSON file per language (``vi.json``, the default,
and ``en.json``) in this folder. Code that produces text a person reads does not write the sentence:
it returns a :class:`Message` (``code`` + ``params``) and the edge (exports, CLI, API, web) renders it
in the reader's language with :func:`translate`. A parameter may itself be a :class:`Message` or a
localised text ``{"vi": "...", "en": "..."}`` (e.g. a citation read from a rule file), rendered in the
same language.

The web app reads the same catalogue: ``web/i18n/<lang>.json`` are generated from these files by
``python -m diagioi.web`` (a test fails when they differ).
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_LANGUAGE", "LANGUAGES", "Message", "catalogue", "format_number", "language_from",
    "localised", "translate",
]

CATALOGUE_DIR = Path(__file__).resolve().parent
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


@dataclass(frozen=True)
class Message:
    """A typed message: a catalogue key and its parameters (numbers, codes, texts or messages).

    ``to_dict()`` is the JSON form ``{"code", "params"}`` used for warnings and notes in the
    evaluation JSON; :meth:`from_dict` reads it back.
    """

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": {k: _param_to_json(v) for k, v in self.params.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Message":
        params = {k: (cls.from_dict(v) if _is_message_dict(v) else v) for k, v in (data.get("params") or {}).items()}
        return cls(str(data["code"]), params)

    def text(self, lang: str = DEFAULT_LANGUAGE) -> str:
        return translate(self, lang)


def _is_message_dict(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"code", "params"}


def _param_to_json(value: Any) -> Any:
    if isinstance(value, Message):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_param_to_json(v) for v in value]
    return value


def _check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        from ..errors import InputError

        raise InputError(Message("error.unknown_language", {"lang": repr(lang)}), hint=Message("hint.languages"),
                         context={"lang": lang, "languages": list(LANGUAGES)}, code="input")
    return lang


@cache
def catalogue(lang: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """All messages of a language, key → text with ``{name}`` placeholders."""
    _check_language(lang)
    return json.loads((CATALOGUE_DIR / f"{lang}.json").read_text(encoding="utf-8"))


def localised(text: Any, lang: str = DEFAULT_LANGUAGE) -> str:
    """A text in ``lang`` from ``{"vi": ..., "en": ...}`` (the other language when one is missing)."""
    if isinstance(text, Mapping):
        value = text.get(lang) or text.get(DEFAULT_LANGUAGE) or next((v for v in text.values() if v), "")
        return str(value)
    return "" if text is None else str(text)


class _Params(dict):
    def __missing__(self, key: str) -> str:  # a parameter the caller did not give stays visible
        return "{" + key + "}"


def translate(message: Message | str | Mapping[str, Any], lang: str = DEFAULT_LANGUAGE, **params: Any) -> str:
    """Render a message (or a key with ``params``) in ``lang``; an unknown key is returned as is."""
    if isinstance(message, Mapping) and not _is_message_dict(message):
        return localised(message, lang)
    if isinstance(message, Mapping):
        message = Message.from_dict(message)
    if isinstance(message, str):
        message = Message(message, params)
    template = catalogue(lang).get(message.code)
    if template is None:
        template = catalogue(DEFAULT_LANGUAGE).get(message.code, message.code)
    values = _Params({name: _render_param(value, lang) for name, value in message.params.items()})
    return template.format_map(values)


def _render_param(value: Any, lang: str) -> Any:
    if isinstance(value, Message) or _is_message_dict(value):
        return translate(value, lang)
    if isinstance(value, Mapping):
        return localised(value, lang)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(_render_param(v, lang)) for v in value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return format_number(value, None, lang)
    return value


def format_number(value: Any, digits: int | None = 0, lang: str = DEFAULT_LANGUAGE) -> str:
    """A number as a reader writes it: ``1.234,5`` in Vietnamese, ``1,234.5`` in English.

    ``digits`` fixes the decimals (rounded half away from zero); ``None`` keeps up to 6 significant
    decimals and drops trailing zeros. Missing values give "–".
    """
    if value is None or isinstance(value, bool):
        return "–"
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        return "–"
    if digits is None:
        text = f"{number:,.6f}".rstrip("0").rstrip(".") if not float(number).is_integer() else f"{number:,.0f}"
    else:
        from decimal import ROUND_HALF_UP, Decimal

        quantum = Decimal(1).scaleb(-digits)
        rounded = Decimal(repr(number)).quantize(quantum, rounding=ROUND_HALF_UP)
        text = f"{rounded:,.{digits}f}"
    if text in ("-0", "-0.0") or (text.startswith("-") and float(text.replace(",", "")) == 0):
        text = text[1:]
    if lang == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def language_from(query: str | None = None, accept_language: str | None = None) -> str:
    """The reader's language: ``?lang=`` when given, else the first known one of ``Accept-Language``."""
    if query:
        return _check_language(query.strip().lower())
    if accept_language:
        ranked = []
        for position, part in enumerate(accept_language.split(",")):
            tag, _, quality = part.strip().partition(";q=")
            try:
                weight = float(quality) if quality else 1.0
            except ValueError:
                weight = 0.0
            ranked.append((-weight, position, tag.split("-")[0].strip().lower()))
        for _weight, _position, tag in sorted(ranked):
            if tag in LANGUAGES:
                return tag
    return DEFAULT_LANGUAGE


_EXPECTED_TYPES = {"string": "string", "int": "int", "float": "float", "bool": "bool", "dict": "dict", "list": "list",
                   "model": "dict"}
_NUMBER_BOUNDS = ("too_long", "too_short", "greater_than_equal", "greater_than", "less_than_equal", "less_than",
                  "extra_forbidden")


def validation_problem(error: Mapping[str, Any], lang: str) -> str:
    """One pydantic validation problem in ``lang``: pydantic's own words in English, the catalogue's in Vietnamese."""
    if lang == "en":
        return str(error.get("msg", ""))
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    prefix, _, suffix = kind.partition("_")
    if kind == "missing":
        return translate("validation.missing", lang)
    if suffix in ("type", "parsing") and prefix in _EXPECTED_TYPES:
        return translate("validation.type", lang, expected=Message(f"validation.expected.{_EXPECTED_TYPES[prefix]}"))
    if kind in ("literal_error", "enum"):
        return translate("validation.literal", lang, expected=str(ctx.get("expected", "")).replace(" or ", " hoặc "))
    if kind in _NUMBER_BOUNDS:
        return translate(f"validation.{kind}", lang, **{k: v for k, v in ctx.items() if isinstance(v, (int, float))})
    if kind.startswith("string_too_"):
        return translate(f"validation.{kind.removeprefix('string_')}", lang, **ctx)
    return translate("validation.other", lang, type=kind)


def validation_problem_texts(error: Mapping[str, Any]) -> dict[str, str]:
    """:func:`validation_problem` in every language, as a localised parameter of a message."""
    return {lang: validation_problem(error, lang) for lang in LANGUAGES}


def join(messages: Sequence[Message], lang: str = DEFAULT_LANGUAGE, separator: str = "; ") -> str | None:
    """Several messages as one text (``None`` when there is none)."""
    return separator.join(translate(m, lang) for m in messages) or None


def web_copy_text(lang: str) -> str:
    """The exact text of ``web/i18n/<lang>.json``."""
    return json.dumps(catalogue(lang), ensure_ascii=False, indent=1, sort_keys=True) + "\n"

