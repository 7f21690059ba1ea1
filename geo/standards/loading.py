"""Finding and reading rules files: built-in regimes by name, user files by path, ``extends`` files."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..errors import RuleSetError
from ..text import fold
from .schema import read_extends_file

if TYPE_CHECKING:
    from .ruleset import RuleSet

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"


def read_yaml(path: Path) -> dict:
    """A rules file's YAML mapping; a missing, non-UTF-8 or malformed file is a :class:`RuleSetError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RuleSetError(f"rules file not found: {path}", hint="check the path of the .yaml rules file",
                           context={"file": str(path)}) from None
    except UnicodeDecodeError as exc:
        raise RuleSetError(f"{path}: not UTF-8 text ({exc.reason})", hint="save the rules file as UTF-8",
                           context={"file": str(path)}) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise RuleSetError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', None) or exc}",
                           hint="fix the YAML syntax (indentation, quotes, colons)",
                           context={"file": str(path), "line": mark.line + 1 if mark else None}) from None
    if not isinstance(data, dict):
        raise RuleSetError(f"{path}: a rules file must be a YAML mapping, got {type(data).__name__}",
                           hint="start the file with 'id:', 'name:', 'rules:' … or 'extends:'",
                           context={"file": str(path)})
    return data


def regime_key(text: str) -> str:
    """"R76", "r76", "76" → "76": the key a regime is looked up by."""
    key = fold(text).replace(" ", "")
    return key[1:] if key.startswith("r") and key[1:2].isdigit() else key


@functools.lru_cache(maxsize=1)
def builtin_index() -> dict[str, Path]:
    """Regime key (id and aliases) → built-in rules file."""
    index: dict[str, Path] = {}
    for path in sorted(RULES_DIR.glob("*.yaml")):
        spec = read_yaml(path)
        for name in [spec.get("id", path.stem), *spec.get("aliases", [])]:
            index[regime_key(str(name))] = path
    return index


@functools.lru_cache(maxsize=16)
def load_builtin(path: Path) -> "RuleSet":
    # built-in files are immutable package data; a RuleSet has no mutating methods, so share it
    from .ruleset import RuleSet

    return RuleSet(read_yaml(path), source=path)


def load_path(path: Path) -> "RuleSet":
    """A user's rules file: a complete rule set, or ``extends: <regime or path>`` with ``overrides``."""
    from .ruleset import RuleSet

    spec = read_yaml(path)
    if "extends" not in spec:
        return RuleSet(spec, source=path)
    extension = read_extends_file(spec, str(path))
    base = resolve_reference(extension.extends, path.parent, str(path), "extends")
    derived = base.with_overrides(extension.overrides)
    merged = derived.to_dict()
    merged.pop("source", None)
    if extension.note is not None:
        merged.pop("note_vi", None)  # the base file's Vietnamese note does not translate the new note
    for key in ("name", "note", "note_vi"):
        if getattr(extension, key) is not None:
            merged[key] = getattr(extension, key)
    return RuleSet(merged, source=path, baseline=derived.baseline, parent_fallback=derived.parent_fallback)


def resolve_reference(reference: Any, base_dir: Path, source: str, field_name: str) -> "RuleSet":
    """The rule set a file refers to (``extends``, ``baseline``, ``parent_fallback``): a regime or a path."""
    from .ruleset import RuleSet

    if not isinstance(reference, str) or not reference.strip():
        raise RuleSetError(f"{source}: '{field_name}' must name a regime (e.g. R1211) or a .yaml path",
                           hint=f"set {field_name}: R1211", context={"file": source, "field": field_name})
    if reference.lower().endswith((".yaml", ".yml")):
        return load_path((base_dir / reference).resolve())
    return RuleSet.load(reference)
