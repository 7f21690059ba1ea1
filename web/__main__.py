"""python -m diagioi.web: regenerate web/i18n/*.json from the language catalogue (diagioi.geo.i18n)."""
from diagioi.web import write_i18n

for written_path in write_i18n():
    print(written_path)
