"""Region flags: the flags table, precedence of sources, and the reason each variant applied."""
import pytest

from diagioi.geo.errors import InputError, NotFoundError
from diagioi.geo.flags import check_flag_codes, flags_to_csv, read_flags_csv, resolve_flags, variant_reason
from diagioi.geo.kinds import UnitKind
from diagioi.geo.standards import RuleSet, UnitFigures


def test_a_flags_table_reads_yes_no_words_percentages_and_lost_leading_zeros(tmp_path):
    path = tmp_path / "flags.csv"
    path.write_text("code;mountainous;border;ethnic_minority_share\n1840;có;;42%\n01849;0;x;0.3\n\n",
                    encoding="utf-8-sig")
    table = read_flags_csv(path)
    assert table == {"01840": {"mountainous": True, "ethnic_minority_share": 0.42},
                     "01849": {"mountainous": False, "border": True, "ethnic_minority_share": 0.3}}
    assert read_flags_csv(flags_to_csv(table)) == table


@pytest.mark.parametrize("text, message", [
    ("code,mountainous\n01840,maybe\n", "row 2, column mountainous"),
    ("code,mountainous\n01840,1\n01840,0\n", "listed twice"),
    ("code,altitude\n01840,1\n", "unknown column"),
    ("mountainous\n1\n", "no code column"),
    ("code,ethnic_minority_share\n01840,140\n", "is not a share"),
    ("", "empty"),
])
def test_a_bad_flags_table_is_refused_naming_the_cell(text, message):
    with pytest.raises(InputError, match=message):
        read_flags_csv(text.encode())


def test_codes_not_in_the_layer_are_refused(grid_units):
    with pytest.raises(NotFoundError, match="99999"):
        check_flag_codes({"00001": {"mountainous": True}, "99999": {"border": True}}, grid_units)


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
