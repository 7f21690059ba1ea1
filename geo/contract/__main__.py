"""Write (or check) the published JSON Schemas: ``python -m diagioi.geo.contract [--check] [folder]``.

The schemas are generated from the pydantic models, so they cannot drift from the code; a test runs
``--check`` against ``docs/contract``.
"""
from __future__ import annotations

import sys
from pathlib import Path

from . import schema_texts

DEFAULT_FOLDER = Path("docs") / "contract"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    folder = Path(args[0]) if args else DEFAULT_FOLDER
    stale = []
    for name, text in schema_texts().items():
        path = folder / name
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print("out of date: " + ", ".join(stale) + " — run python -m diagioi.geo.contract", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
