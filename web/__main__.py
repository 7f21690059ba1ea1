"""python -m diagioi.web: regenerate web/i18n/*.json (language catalogue) and web/colours.js (colours)."""
from diagioi.web import write_colours, write_i18n

for written_path in [*write_i18n(), write_colours()]:
    print(written_path)
