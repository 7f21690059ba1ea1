"""Region flags: the flags table, precedence of sources, and the reason each variant applied."""
import pytest

from diagioi.geo.errors import InputError
from diagioi.geo.flags import flags_to_csv, read_flags_table, resolve_flags, variant_reason
from diagioi.geo.kinds import UnitKind
from diagioi.geo.standards import RuleSet, UnitFigures


def test_a_flags_table_reads_yes_no_words_percentages_and_lost_leading_zeros(grid_units, tmp_path):
    path = tmp_path / "flags.csv"
    path.write_text("Mã xã;Miền núi;Biên giới;Tỷ lệ DTTS\n4;có;;42%\n00005;0;x;0.3\n\n", encoding="utf-8-sig")
    table, report = read_flags_table(path, grid_units)
    assert table == {"00004": {"mountainous": True, "ethnic_minority_share": 0.42},
                     "00005": {"mountainous": False, "border": True, "ethnic_minority_share": 0.3}}
    assert report.matched == 2
    again = tmp_path / "again.csv"
    again.write_text(flags_to_csv(table), encoding="utf-8")
    assert read_flags_table(again, grid_units)[0] == table


@pytest.mark.parametrize("text, error, message", [
    ("code,mountainous\n00001,maybe\n", InputError, "row 2, column mountainous"),
    ("code,ethnic_minority_share\n00001,140\n", InputError, "is not a share"),
    ("code,mountainous\n99999,1\n", InputError, "match no unit"),
    ("code,altitude\n00001,1\n", InputError, "no header row"),
])
def test_a_bad_flags_table_is_refused_naming_the_row(grid_units, tmp_path, text, error, message):
    path = tmp_path / "flags.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(error, match=message):
        read_flags_table(path, grid_units)


AREAS = {"a": 10.0, "b": 30.0}
POPS = {"a": 1000, "b": 3000}


def test_the_table_beats_the_layer_which_beats_the_context():
    table = {"a": {"mountainous": True}}
    layer = {"mountainous": {"a": False, "b": False}}
    flags = resolve_flags(["a"], areas=AREAS, populations=POPS, unit_flags=table, layer_values=layer,
                          layer_has={"mountainous"}, context={"mountainous": False}, flags_name="flags.csv")
    assert flags["mountainous"] is True
    assert flags.reason("mountainous") == "miền núi, vùng cao — theo bảng cờ flags.csv"
    flags = resolve_flags(["b"], areas=AREAS, populations=POPS, unit_flags=table, layer_values=layer,
                          layer_has={"mountainous"}, context={"mountainous": True})
    assert flags["mountainous"] is False and "cột của lớp" in flags.reason("mountainous")
    flags = resolve_flags(["b"], areas=AREAS, populations=POPS, context={"mountainous": True})
    assert flags["mountainous"] is True and "bối cảnh" in flags.reason("mountainous")


def test_a_new_units_own_value_beats_everything():
    flags = resolve_flags(["a", "b"], areas=AREAS, populations=POPS, unit_flags={"a": {"mountainous": True}},
                          own={"mountainous": False})
    assert flags["mountainous"] is False and "đơn vị mới" in flags.reason("mountainous")


def test_members_combine_by_area_majority_any_border_and_population_weighted_share():
    table = {"a": {"mountainous": True, "border": True, "ethnic_minority_share": 0.9},
             "b": {"mountainous": False, "ethnic_minority_share": 0.1}}
    flags = resolve_flags(["a", "b"], areas=AREAS, populations=POPS, unit_flags=table)
    assert flags["mountainous"] is False          # 10 of 40 km²
    assert "10.00/40.00 km²" in flags.reason("mountainous")
    assert flags["border"] is True                # one member has a land border
    assert flags["ethnic_minority_share"] == pytest.approx((0.9 * 1000 + 0.1 * 3000) / 4000)
    missing = resolve_flags(["a", "b"], areas=AREAS, populations=POPS, unit_flags={"a": table["a"]})
    assert missing["ethnic_minority_share"] is None


def test_the_mountainous_variant_of_the_2025_ward_population_says_why():
    flags = resolve_flags(["a"], areas=AREAS, populations=POPS, unit_flags={"a": {"mountainous": True}},
                          flags_name="flags.csv")
    ruleset = RuleSet.load("R76")
    results = ruleset.check_unit(UnitFigures(kind=UnitKind.ward, area_km2=6.0, population=16000,
                                             mountainous=flags["mountainous"]))
    population = next(r for r in results if r.criterion == "population")
    assert population.threshold == 15000 and population.passed is True
    assert variant_reason(ruleset, population, flags) == "miền núi, vùng cao — theo bảng cờ flags.csv"
