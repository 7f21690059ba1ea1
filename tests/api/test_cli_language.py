"""What the commands print on stderr besides errors (progress, "wrote …", the lines of main()) follows --lang:
Vietnamese by default, English with --lang en; --json output is the same in both."""
from __future__ import annotations

import json
import re
from contextlib import contextmanager

import pytest
from language_check import english_words
from typer.testing import CliRunner

from diagioi.api import cli

runner = CliRunner()


@pytest.fixture
def progress_lines(monkeypatch) -> list[str]:
    """The descriptions the commands give their progress spinners (hidden when stderr is not a terminal)."""
    lines: list[str] = []

    class Recorder:
        def add_task(self, description, **_options):
            lines.append(description)

    @contextmanager
    def recording():
        yield Recorder()

    monkeypatch.setattr(cli, "_progress", recording)
    return lines


def _scenario(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"name": "thử", "new_units": [
        {"id": "n1", "name": "Xã Nam", "kind": "commune", "members": ["00001", "00002"]}]}), encoding="utf-8")
    return path


def test_progress_is_vietnamese_by_default_and_english_with_lang_en(grid_path, tmp_path, progress_lines):
    scenario = _scenario(tmp_path)
    for extra in ([], ["--lang", "en"]):
        result = runner.invoke(cli.app, ["evaluate", str(scenario), "--units", str(grid_path), *extra])
        assert result.exit_code == 0, result.output
        result = runner.invoke(cli.app, ["topology", str(grid_path), *extra])
        assert result.exit_code == 0, result.output
    assert progress_lines == ["đang đọc grid.geojson", "đang đánh giá phương án",
                              "đang đọc grid.geojson", "đang kiểm tra khe hở, chồng lấn và tự cắt",
                              "reading grid.geojson", "evaluating", "reading grid.geojson", "checking topology"]


def test_written_files_are_announced_in_the_readers_language(grid_path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # short paths: the console wraps long lines
    vietnamese = runner.invoke(cli.app, ["units", str(grid_path), "--out", "don-vi.gpkg"])
    english = runner.invoke(cli.app, ["units", str(grid_path), "--out", "units.gpkg", "--lang", "en"])
    topology = runner.invoke(cli.app, ["topology", str(grid_path), "--out", "van-de.gpkg"])
    assert vietnamese.exit_code == english.exit_code == topology.exit_code == 0, vietnamese.output
    assert "đã ghi don-vi.gpkg" in vietnamese.output and "wrote" not in vietnamese.output
    assert "đã ghi van-de.gpkg" in topology.output and "wrote" not in topology.output
    assert "wrote units.gpkg" in english.output


def test_json_output_is_the_same_whatever_the_language_of_the_progress(grid_path, progress_lines):
    vietnamese = runner.invoke(cli.app, ["topology", str(grid_path), "--json"])
    english = runner.invoke(cli.app, ["topology", str(grid_path), "--json", "--lang", "en"])
    assert json.loads(vietnamese.stdout) == json.loads(english.stdout)


OPTION = re.compile(r"--[\w-]+")  # option names are typed as they are
EXAMPLE = re.compile(r"ví dụ .*$")  # so is an example command line


def _error_lines(arguments: list[str]) -> tuple[str, str]:
    result = runner.invoke(cli.app, arguments)
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    (error,) = [line.removeprefix("error:").strip() for line in lines if line.startswith("error:")]
    (hint,) = [line.removeprefix("hint:").strip() for line in lines if line.startswith("hint:")]
    return error, hint


def test_option_mistakes_are_told_in_vietnamese_by_default(grid_path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cases = {
        "wrong --out suffix": ["units", str(grid_path), "--out", "a.csv"],
        "--out-fixed without --repair": ["topology", str(grid_path), "--out-fixed", "b.gpkg"],
        "crosswalk to a .xlsx": ["crosswalk", str(grid_path), str(grid_path), "--out", "c.xlsx"],
        "no scope": ["suggest", "--units", str(grid_path)],
        "bad --table-column": ["units", str(grid_path), "--table", str(grid_path), "--table-column", "so_dan"],
    }
    for name, arguments in cases.items():
        error_vi, hint_vi = _error_lines(arguments)
        words = english_words(OPTION.sub("", error_vi)) + english_words(OPTION.sub("", EXAMPLE.sub("", hint_vi)))
        assert words == [], (name, error_vi, hint_vi)
        assert _error_lines([*arguments, "--lang", "en"]) != (error_vi, hint_vi), name
    assert _error_lines(cases["wrong --out suffix"]) == ("không ghi được a.csv: hãy dùng tệp .gpkg",
                                                         "ví dụ --out units.gpkg")
    assert _error_lines([*cases["--out-fixed without --repair"], "--lang", "en"]) == (
        "--out-fixed needs --repair", "add --repair --tolerance METRES")


@pytest.mark.parametrize(("arguments", "expected"), [
    ([], ("đã dừng giữa chừng",)), (["units", "x", "--lang", "en"], ("interrupted",)),
    (["units", "x", "--lang=en"], ("interrupted",)),
])
def test_an_interrupted_command_says_so_in_its_language(monkeypatch, capsys, arguments, expected):
    def interrupted(**_options):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "app", interrupted)
    monkeypatch.setattr("sys.argv", ["diagioi", *arguments])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 130
    assert capsys.readouterr().err.strip() == f"error: {expected[0]}"


def test_a_bug_is_reported_in_vietnamese_by_default(monkeypatch, capsys):
    def broken(**_options):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cli, "app", broken)
    monkeypatch.setattr("sys.argv", ["diagioi", "units", "x"])
    with pytest.raises(SystemExit):
        cli.main()
    error, *hint_lines = capsys.readouterr().err.strip().splitlines()  # the console wraps the long hint
    hint = " ".join(line.strip() for line in hint_lines)
    assert error == "error: lỗi không lường trước (ZeroDivisionError): division by zero"
    assert hint.startswith("hint: đây là lỗi của diagioi") and english_words(hint) == []
