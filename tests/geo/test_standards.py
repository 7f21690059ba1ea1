"""Statutory standards: every numeric rule at, just below and just above its threshold, plus the
R35 triggers, the R76 exemption and fallback, special-factor reductions, overrides, user files
and malformed files.

The expected thresholds below are written by hand from /work/shared/reference/standards-vn.md,
not read back from geo/rules/*.yaml, so a wrong number in a rules file fails here.
"""
from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from diagioi.geo.errors import RuleSetError
from diagioi.geo.kinds import ParentKind, UnitKind
from diagioi.geo.standards import RULES_DIR, ParentFigures, RuleResult, RuleSet, UnitFigures, overall_status

PEOPLE = "người"

# --------------------------------------------------------------------------------------------
# Helpers: figures in which only the criterion under test is near its threshold
# --------------------------------------------------------------------------------------------
LARGE_AREA_KM2 = 100_000.0
LARGE_POPULATION = 10_000_000.0


def unit_figures(kind: str, criterion: str, value: float, **flags) -> UnitFigures:
    return UnitFigures(kind=UnitKind(kind),
                       area_km2=value if criterion == "area_km2" else LARGE_AREA_KM2,
                       population=value if criterion == "population" else LARGE_POPULATION, **flags)


def parent_figures(kind: str, criterion: str, value: float, *, count_wards: bool = False, **flags) -> ParentFigures:
    n_units, n_wards = 100, 100
    if criterion == "subunits":
        n_units, n_wards = (100, int(value)) if count_wards else (int(value), 0)
    if criterion == "ward_share":
        n_units, n_wards = 100, int(value)     # 100 units: the ward count is the share in %
    return ParentFigures(kind=ParentKind(kind),
                         area_km2=value if criterion == "area_km2" else LARGE_AREA_KM2,
                         population=value if criterion == "population" else LARGE_POPULATION,
                         n_units=n_units, n_wards=n_wards, **flags)


def result_of(results: list[RuleResult], rule_id: str) -> RuleResult:
    matching = [r for r in results if r.rule == rule_id]
    assert len(matching) == 1, f"{rule_id} not in {[r.rule for r in results]}"
    return matching[0]


def step_for(criterion: str) -> float:
    """'Just below / above': 0.01 km², 1 person, 1 unit, 1 percentage point."""
    return 0.01 if criterion == "area_km2" else 1.0


# (regime, unit kind, criterion, flags, rule id, expected threshold, expected variant)
UNIT_RULES = [
    # R1211 commune (Art. 3) with variants and Art. 3a reductions
    ("R1211", "commune", "area_km2", {}, "r1211.commune.area_km2", 30, None),
    ("R1211", "commune", "area_km2", {"mountainous": True}, "r1211.commune.area_km2", 50, "mountainous"),
    ("R1211", "commune", "area_km2", {"red_river_delta": True}, "r1211.commune.area_km2", 21, None),
    ("R1211", "commune", "area_km2", {"red_river_delta": True, "mountainous": True},
     "r1211.commune.area_km2", 35, "mountainous"),
    ("R1211", "commune", "population", {}, "r1211.commune.population", 8000, None),
    ("R1211", "commune", "population", {"mountainous": True}, "r1211.commune.population", 5000, "mountainous"),
    ("R1211", "commune", "population", {"border": True}, "r1211.commune.population", 4000, None),
    ("R1211", "commune", "population", {"mountainous": True, "ethnic_minority_share": 0.30},
     "r1211.commune.population", 2500, "mountainous"),
    ("R1211", "commune", "population", {"mountainous": True, "ethnic_minority_share": 0.40},
     "r1211.commune.population", 2250, "mountainous"),
    ("R1211", "commune", "population", {"mountainous": True, "ethnic_minority_share": 0.95},
     "r1211.commune.population", 1000, "mountainous"),
    ("R1211", "commune", "population", {"coastal_poor": True}, "r1211.commune.population", 4000, None),
    # R1211 ward (Art. 8): population by parent kind, no reduction for urban units
    ("R1211", "ward", "area_km2", {}, "r1211.ward.area_km2", 5.5, None),
    ("R1211", "ward", "population", {}, "r1211.ward.population", 7000, None),
    ("R1211", "ward", "population", {"parent_kind": ParentKind.provincial_city}, "r1211.ward.population", 7000, None),
    ("R1211", "ward", "population", {"parent_kind": ParentKind.city_of_central_city},
     "r1211.ward.population", 7000, None),
    ("R1211", "ward", "population", {"parent_kind": ParentKind.urban_district},
     "r1211.ward.population", 15000, "urban_district"),
    ("R1211", "ward", "population", {"parent_kind": ParentKind.town}, "r1211.ward.population", 5000, "town"),
    ("R1211", "ward", "population", {"border": True, "mountainous": True, "ethnic_minority_share": 0.9},
     "r1211.ward.population", 7000, None),
    # R1211 township (Art. 9)
    ("R1211", "township", "area_km2", {}, "r1211.township.area_km2", 14, None),
    ("R1211", "township", "population", {}, "r1211.township.population", 8000, None),
    # R76 new communes (Art. 5 cl. 1 pt. a, b): no 1211 Art. 3a reduction
    ("R76", "commune", "area_km2", {}, "r76.commune.area_km2", 30, None),
    ("R76", "commune", "area_km2", {"mountainous": True}, "r76.commune.area_km2", 100, "mountainous"),
    ("R76", "commune", "area_km2", {"red_river_delta": True}, "r76.commune.area_km2", 30, None),
    ("R76", "commune", "population", {}, "r76.commune.population", 16000, None),
    ("R76", "commune", "population", {"border": True}, "r76.commune.population", 16000, None),
    ("R76", "commune", "population", {"mountainous": True}, "r76.commune.population", 5000, "mountainous"),
    # R76 new wards (pt. c)
    ("R76", "ward", "area_km2", {}, "r76.ward.area_km2", 5.5, None),
    ("R76", "ward", "population", {}, "r76.ward.population", 21000, None),
    ("R76", "ward", "population", {"central_city": True}, "r76.ward.population", 45000, "central_city"),
    ("R76", "ward", "population", {"central_city": True, "mountainous": True, "border": True},
     "r76.ward.population", 45000, "central_city"),
    ("R76", "ward", "population", {"mountainous": True}, "r76.ward.population", 15000,
     "province_mountainous_or_border"),
    ("R76", "ward", "population", {"border": True}, "r76.ward.population", 15000, "province_mountainous_or_border"),
    # R112 (unconfirmed)
    ("R112", "commune", "area_km2", {}, "r112.commune.area_km2", 30, None),
    ("R112", "commune", "area_km2", {"mountainous": True}, "r112.commune.area_km2", 100, "mountainous"),
    ("R112", "commune", "area_km2", {"island": True}, "r112.commune.area_km2", 15, "island"),
    ("R112", "commune", "area_km2", {"red_river_delta": True}, "r112.commune.area_km2", 21, None),
    ("R112", "commune", "population", {}, "r112.commune.population", 16000, None),
    ("R112", "commune", "population", {"mountainous": True}, "r112.commune.population", 5000, "mountainous"),
    ("R112", "commune", "population", {"island": True}, "r112.commune.population", 2500, "island"),
    ("R112", "commune", "population", {"border": True}, "r112.commune.population", 8000, None),
    ("R112", "commune", "population", {"mountainous": True, "ethnic_minority_share": 0.30},
     "r112.commune.population", 5000, "mountainous"),
    ("R112", "commune", "population", {"mountainous": True, "ethnic_minority_share": 0.60},
     "r112.commune.population", 2250, "mountainous"),
    ("R112", "ward", "area_km2", {}, "r112.ward.area_km2", 5.5, None),
    ("R112", "ward", "population", {}, "r112.ward.population", 21000, None),
]

# (regime, parent kind, criterion, flags, rule id, expected threshold, variant, count_wards)
PARENT_RULES = [
    ("R1211", "province", "area_km2", {}, "r1211.province.area_km2", 5000, None, False),
    ("R1211", "province", "area_km2", {"mountainous": True}, "r1211.province.area_km2", 8000, "mountainous", False),
    ("R1211", "province", "area_km2", {"red_river_delta": True}, "r1211.province.area_km2", 3500, None, False),
    ("R1211", "province", "population", {}, "r1211.province.population", 1_400_000, None, False),
    ("R1211", "province", "population", {"mountainous": True}, "r1211.province.population", 900_000,
     "mountainous", False),
    ("R1211", "province", "population", {"border": True}, "r1211.province.population", 700_000, None, False),
    ("R1211", "province", "subunits", {}, "r1211.province.subunits", 9, None, False),
    ("R1211", "district", "area_km2", {}, "r1211.district.area_km2", 450, None, False),
    ("R1211", "district", "area_km2", {"mountainous": True}, "r1211.district.area_km2", 850, "mountainous", False),
    ("R1211", "district", "population", {}, "r1211.district.population", 120_000, None, False),
    ("R1211", "district", "population", {"mountainous": True}, "r1211.district.population", 80_000,
     "mountainous", False),
    ("R1211", "district", "subunits", {}, "r1211.district.subunits", 13, None, False),
    ("R1211", "central_city", "area_km2", {}, "r1211.central_city.area_km2", 1500, None, False),
    ("R1211", "central_city", "population", {}, "r1211.central_city.population", 1_000_000, None, False),
    ("R1211", "central_city", "subunits", {}, "r1211.central_city.subunits", 9, None, False),
    ("R1211", "central_city", "ward_share", {}, "r1211.central_city.ward_share", 60, None, False),
    ("R1211", "provincial_city", "area_km2", {}, "r1211.provincial_city.area_km2", 150, None, False),
    ("R1211", "provincial_city", "population", {}, "r1211.provincial_city.population", 150_000, None, False),
    ("R1211", "provincial_city", "subunits", {}, "r1211.provincial_city.subunits", 10, None, False),
    ("R1211", "provincial_city", "ward_share", {}, "r1211.provincial_city.ward_share", 65, None, False),
    ("R1211", "city_of_central_city", "area_km2", {}, "r1211.provincial_city.area_km2", 150, None, False),
    ("R1211", "city_of_central_city", "population", {}, "r1211.provincial_city.population", 150_000, None, False),
    ("R1211", "city_of_central_city", "subunits", {}, "r1211.provincial_city.subunits", 10, None, False),
    ("R1211", "city_of_central_city", "ward_share", {}, "r1211.provincial_city.ward_share", 65, None, False),
    ("R1211", "town", "area_km2", {}, "r1211.town.area_km2", 200, None, False),
    ("R1211", "town", "population", {}, "r1211.town.population", 100_000, None, False),
    ("R1211", "town", "subunits", {}, "r1211.town.subunits", 10, None, False),
    ("R1211", "town", "ward_share", {}, "r1211.town.ward_share", 50, None, False),
    ("R1211", "urban_district", "area_km2", {}, "r1211.urban_district.area_km2", 35, None, False),
    ("R1211", "urban_district", "population", {}, "r1211.urban_district.population", 150_000, None, False),
    ("R1211", "urban_district", "subunits", {}, "r1211.urban_district.subunits", 12, None, True),
    ("R76", "province", "area_km2", {}, "r76.province.area_km2", 5000, None, False),
    ("R76", "province", "area_km2", {"mountainous": True}, "r76.province.area_km2", 8000, "mountainous", False),
    ("R76", "province", "population", {}, "r76.province.population", 1_400_000, None, False),
    ("R76", "province", "population", {"mountainous": True}, "r76.province.population", 900_000, "mountainous", False),
    ("R76", "central_city", "area_km2", {}, "r76.central_city.area_km2", 1500, None, False),
    ("R76", "central_city", "population", {}, "r76.central_city.population", 1_000_000, None, False),
    # R76 has no provincial-city standard: falls back to R1211 Art. 5 (the Bắc Kạn case)
    ("R76", "provincial_city", "area_km2", {}, "r1211.provincial_city.area_km2", 150, None, False),
    ("R76", "provincial_city", "population", {}, "r1211.provincial_city.population", 150_000, None, False),
    ("R76", "provincial_city", "subunits", {}, "r1211.provincial_city.subunits", 10, None, False),
    ("R76", "provincial_city", "ward_share", {}, "r1211.provincial_city.ward_share", 65, None, False),
    ("R112", "province", "area_km2", {}, "r112.province.area_km2", 5000, None, False),
    ("R112", "province", "area_km2", {"mountainous": True}, "r112.province.area_km2", 8000, "mountainous", False),
    ("R112", "province", "area_km2", {"red_river_delta": True}, "r112.province.area_km2", 2500, None, False),
    ("R112", "province", "population", {}, "r112.province.population", 1_400_000, None, False),
    ("R112", "province", "population", {"mountainous": True}, "r112.province.population", 900_000,
     "mountainous", False),
    ("R112", "central_city", "area_km2", {}, "r112.central_city.area_km2", 2500, None, False),
    ("R112", "central_city", "population", {}, "r112.central_city.population", 2_500_000, None, False),
    ("R112", "central_city", "ward_share", {}, "r112.central_city.ward_share", 30, None, False),
]

OFFSETS = [pytest.param(0, True, id="at"), pytest.param(-1, False, id="below"), pytest.param(+1, True, id="above")]


def _rule_case_id(case: tuple) -> str:
    flags = "+".join(f"{k}={v}" for k, v in case[3].items()) or "plain"
    return f"{case[0]}-{case[1]}-{case[2]}-{flags}"


@pytest.mark.parametrize("offset, expected_pass", OFFSETS)
@pytest.mark.parametrize("case", UNIT_RULES, ids=[_rule_case_id(c) for c in UNIT_RULES])
def test_unit_rule_passes_at_and_above_threshold_fails_below(case, offset, expected_pass):
    regime, kind, criterion, flags, rule_id, threshold, variant = case
    value = threshold + offset * step_for(criterion)
    result = result_of(RuleSet.load(regime).check_unit(unit_figures(kind, criterion, value, **flags)), rule_id)
    assert result.threshold == pytest.approx(threshold)
    assert result.passed is expected_pass
    assert result.comparison == ">="
    assert result.criterion == criterion
    assert result.unit == ("km²" if criterion == "area_km2" else PEOPLE)
    assert result.margin == pytest.approx(offset * step_for(criterion), abs=1e-9)
    assert result.percent_of_standard == round(100 * value / threshold, 1)
    assert result.variant == variant
    assert result.exempt is False


@pytest.mark.parametrize("offset, expected_pass", OFFSETS)
@pytest.mark.parametrize("case", PARENT_RULES, ids=[_rule_case_id(c) for c in PARENT_RULES])
def test_parent_rule_passes_at_and_above_threshold_fails_below(case, offset, expected_pass):
    regime, kind, criterion, flags, rule_id, threshold, variant, count_wards = case
    value = threshold + offset * step_for(criterion)
    figures = parent_figures(kind, criterion, value, count_wards=count_wards, **flags)
    result = result_of(RuleSet.load(regime).check_parent(figures), rule_id)
    assert result.threshold == pytest.approx(threshold)
    assert result.value == pytest.approx(value)
    assert result.passed is expected_pass
    assert result.margin == pytest.approx(offset * step_for(criterion), abs=1e-9)
    assert result.variant == variant
    expected_unit = {"area_km2": "km²", "population": PEOPLE, "subunits": "đơn vị", "ward_share": "%"}[criterion]
    assert result.unit == expected_unit


def test_every_numeric_rule_of_every_regime_is_covered_by_the_threshold_tables():
    covered = {case[4] for case in UNIT_RULES} | {case[4] for case in PARENT_RULES}
    for regime in ("R1211", "R76", "R112"):
        numeric = {rule.id for rule in RuleSet.load(regime).rules if rule.threshold is not None}
        assert numeric - covered == set()


# --------------------------------------------------------------------------------------------
# R76: exemption, fallback note, island communes, Bắc Kạn provincial city
# --------------------------------------------------------------------------------------------
def test_r76_merger_of_three_units_is_exempt_but_figures_are_still_shown():
    figures = UnitFigures(kind=UnitKind.ward, area_km2=4.0, population=12_000, n_members=3)
    results = RuleSet.load("R76").check_unit(figures)
    area, population = result_of(results, "r76.ward.area_km2"), result_of(results, "r76.ward.population")
    assert (area.passed, area.value, area.threshold, area.exempt) == (False, 4.0, 5.5, True)
    assert (population.passed, population.margin, population.exempt) == (False, -9000.0, True)
    assert "Art. 5 cl. 2" in population.citation
    assert "3 units merged" in population.note
    assert "Standing Committee" not in population.note
    assert overall_status(results) == "exempt"


def test_r76_exempt_merger_that_meets_the_standards_passes():
    figures = UnitFigures(kind=UnitKind.commune, area_km2=40.0, population=17_000, n_members=4)
    results = RuleSet.load("R76").check_unit(figures)
    assert [r.exempt for r in results] == [True, True]
    assert overall_status(results) == "pass"


def test_r76_merger_of_two_units_that_fails_needs_standing_committee_decision():
    figures = UnitFigures(kind=UnitKind.commune, area_km2=25.0, population=17_000, n_members=2)
    results = RuleSet.load("R76").check_unit(figures)
    area = result_of(results, "r76.commune.area_km2")
    assert (area.passed, area.exempt, area.margin) == (False, False, -5.0)
    assert "Art. 5 cl. 3" in area.note and "not invalid" in area.note
    assert result_of(results, "r76.commune.population").note == "threshold = 200 % × 8,000 (R1211 commune)"
    assert overall_status(results) == "fail"


def test_r76_mountainous_commune_uses_pt_a_citation_and_derived_thresholds():
    figures = UnitFigures(kind=UnitKind.commune, area_km2=120.0, population=6_000, mountainous=True)
    area = result_of(RuleSet.load("R76").check_unit(figures), "r76.commune.area_km2")
    assert area.threshold == 100.0
    assert area.citation == "Res. 76/2025/UBTVQH15, Art. 5 cl. 1 pt. a"
    assert "200 % × 50 km²" in area.note


def test_r76_island_district_commune_has_no_numeric_standard():
    figures = UnitFigures(kind=UnitKind.commune, area_km2=3.0, population=900, island=True)
    results = RuleSet.load("R76").check_unit(figures)
    assert [r.rule for r in results] == ["r76.commune_island.no_numeric_standard"]
    assert (results[0].passed, results[0].threshold, results[0].exempt) == (None, None, True)
    assert "pt. d" in results[0].citation
    assert overall_status(results) == "exempt"


def test_r76_township_has_no_standard_and_status_is_unknown():
    results = RuleSet.load("R76").check_unit(UnitFigures(kind=UnitKind.township, area_km2=20.0, population=9000))
    assert [(r.rule, r.passed) for r in results] == [("r76.township.no_standard", None)]
    assert overall_status(results) == "unknown"


def test_r76_provincial_city_parent_falls_back_to_r1211_article_5_and_says_so():
    # Illustrative figures in the spirit of the Bắc Kạn seed case (not official statistics).
    figures = ParentFigures(kind=ParentKind.provincial_city, area_km2=137.0, population=62_000,
                            n_units=6, n_wards=4, mountainous=True)
    results = RuleSet.load("R76").check_parent(figures)
    assert [(r.rule, r.threshold, r.passed) for r in results] == [
        ("r1211.provincial_city.area_km2", 150.0, False),
        ("r1211.provincial_city.population", 150_000.0, False),
        ("r1211.provincial_city.subunits", 10.0, False),
        ("r1211.provincial_city.ward_share", 65.0, True),
    ]
    assert results[3].value == pytest.approx(66.666667, abs=1e-5)
    assert all("76/2025/UBTVQH15 sets no standard" in r.note and "R1211" in r.note for r in results)
    assert all("Art. 5" in r.citation for r in results)
    assert overall_status(results) == "fail"


# --------------------------------------------------------------------------------------------
# Special-factor reductions (1211 Art. 3a)
# --------------------------------------------------------------------------------------------
def _commune_population_threshold(regime: str = "R1211", **flags) -> RuleResult:
    figures = UnitFigures(kind=UnitKind.commune, area_km2=60.0, population=3000, **flags)
    return result_of(RuleSet.load(regime).check_unit(figures), f"{regime.lower()}.commune.population")


def test_reductions_never_stack_one_factor_per_standard():
    # border (50 % of 8,000) and coastal (50 % of 8,000) together: still 4,000, not 2,000
    result = _commune_population_threshold(border=True, coastal_poor=True)
    assert result.threshold == 4000.0
    assert result.note.count("special factor") == 1


def test_reduction_picks_the_most_favourable_single_factor():
    # mountainous, 30 % ethnic: 50 % × 5,000 = 2,500 beats coastal 50 % × 8,000 = 4,000
    result = _commune_population_threshold(mountainous=True, ethnic_minority_share=0.3, coastal_poor=True)
    assert result.threshold == 2500.0
    assert "r1211.factor.ethnic_or_border" in result.note
    assert "Art. 3a" in result.citation


@pytest.mark.parametrize("share, expected_pct", [(0.30, 50), (0.39, 50), (0.40, 45), (0.50, 40), (0.60, 35),
                                                 (0.70, 30), (0.80, 25), (0.90, 20), (1.00, 20)])
def test_ethnic_minority_reduction_steps_and_never_goes_below_20_percent(share, expected_pct):
    result = _commune_population_threshold(mountainous=True, ethnic_minority_share=share)
    assert result.threshold == pytest.approx(expected_pct * 5000 / 100)


def test_ethnic_share_without_mountain_or_border_gives_no_reduction():
    assert _commune_population_threshold(ethnic_minority_share=0.9).threshold == 8000.0


def test_coastal_reduction_is_half_of_the_non_mountain_standard():
    assert _commune_population_threshold(coastal_poor=True).threshold == 4000.0
    assert _commune_population_threshold(coastal_poor=True, mountainous=True).threshold == 4000.0


def test_urban_units_get_no_reduction():
    figures = UnitFigures(kind=UnitKind.township, area_km2=5.0, population=3000, border=True,
                          red_river_delta=True, mountainous=True, ethnic_minority_share=0.9)
    results = RuleSet.load("R1211").check_unit(figures)
    assert [(r.rule, r.threshold) for r in results] == [("r1211.township.area_km2", 14.0),
                                                        ("r1211.township.population", 8000.0)]


def test_r1211_ward_without_parent_kind_assumes_provincial_city_and_says_so():
    result = result_of(RuleSet.load("R1211").check_unit(
        UnitFigures(kind=UnitKind.ward, area_km2=6.0, population=7000)), "r1211.ward.population")
    assert (result.threshold, result.passed) == (7000.0, True)
    assert "assumed a ward of a provincial city" in result.note


# --------------------------------------------------------------------------------------------
# R35: strict "<", both conditions of a row, two periods, baseline R1211 with reductions
# --------------------------------------------------------------------------------------------
# (trigger id, unit or parent kind, flags, area threshold km², population threshold)
R35_TRIGGERS = [
    ("r35.2023_2025.commune.area70_pop70", "commune", {}, 21.0, 5600.0),
    ("r35.2023_2025.commune.area20_pop300", "commune", {}, 6.0, 24000.0),
    ("r35.2026_2030.commune.area100_pop100", "commune", {}, 30.0, 8000.0),
    ("r35.2026_2030.commune.area30_pop300", "commune", {}, 9.0, 24000.0),
    ("r35.2023_2025.commune.area70_pop70", "commune", {"mountainous": True}, 35.0, 3500.0),
    ("r35.2023_2025.commune.area70_pop70", "commune", {"border": True}, 21.0, 2800.0),
    ("r35.2023_2025.commune.area70_pop70", "ward", {"parent_kind": ParentKind.urban_district}, 3.85, 10500.0),
    ("r35.2026_2030.commune.area100_pop100", "township", {}, 14.0, 8000.0),
    ("r35.2023_2025.district.area70_pop70", "district", {}, 315.0, 84000.0),
    ("r35.2023_2025.district.area20_pop200", "district", {}, 90.0, 240000.0),
    ("r35.2026_2030.district.area100_pop100", "district", {}, 450.0, 120000.0),
    ("r35.2026_2030.district.area30_pop200", "district", {}, 135.0, 240000.0),
    ("r35.2026_2030.district.area100_pop100", "district", {"mountainous": True}, 850.0, 80000.0),
]


def _r35_rows(kind: str, area_km2: float, population: float, flags: dict) -> list[RuleResult]:
    rules = RuleSet.load("R35")
    if kind in {k.value for k in UnitKind}:
        return rules.check_unit(UnitFigures(kind=UnitKind(kind), area_km2=area_km2, population=population, **flags))
    return rules.check_parent(ParentFigures(kind=ParentKind(kind), area_km2=area_km2, population=population,
                                            n_units=10, n_wards=0, **flags))


@pytest.mark.parametrize("criterion", ["area_km2", "population"])
@pytest.mark.parametrize("offset, must_arrange", [pytest.param(0, False, id="at"), pytest.param(-1, True, id="below"),
                                                  pytest.param(+1, False, id="above")])
@pytest.mark.parametrize("case", R35_TRIGGERS, ids=[f"{c[0]}-{c[1]}-{_rule_case_id(('', '', '', c[2]))}"
                                                    for c in R35_TRIGGERS])
def test_r35_trigger_fires_only_strictly_below_with_the_other_condition_holding(case, offset, must_arrange,
                                                                                 criterion):
    trigger_id, kind, flags, area_limit, population_limit = case
    # the other criterion is clearly below its limit, so this criterion decides
    area = area_limit + offset * 0.01 if criterion == "area_km2" else area_limit / 2
    population = population_limit + offset if criterion == "population" else population_limit / 2
    rows = _r35_rows(kind, area, population, flags)
    area_row, population_row = result_of(rows, f"{trigger_id}.area_km2"), result_of(rows, f"{trigger_id}.population")
    assert area_row.threshold == pytest.approx(area_limit)
    assert population_row.threshold == pytest.approx(population_limit)
    assert (area_row.comparison, area_row.criterion) == ("<", "must_arrange")
    assert area_row.passed is (not must_arrange)
    assert population_row.passed is (not must_arrange)


def test_r35_row_needs_both_conditions():
    # area below 70 % (21 km²) but population above 70 % (5,600): the 70/70 row does not fire
    rows = _r35_rows("commune", 20.0, 6000.0, {})
    area_row = result_of(rows, "r35.2023_2025.commune.area70_pop70.area_km2")
    assert area_row.passed is True
    assert "other condition" in area_row.note
    # ... but the 2026-2030 100/100 row does (20 < 30 and 6,000 < 8,000)
    assert result_of(rows, "r35.2026_2030.commune.area100_pop100.population").passed is False
    assert overall_status(rows) == "fail"


def test_r35_unit_meeting_the_standard_need_not_be_arranged():
    rows = _r35_rows("commune", 30.0, 8000.0, {})
    assert len(rows) == 8                      # 2 rows x 2 periods x (area, population)
    assert overall_status(rows) == "pass"


def test_r35_missing_population_is_unknown_unless_area_already_rules_it_out():
    rows = _r35_rows("commune", 5.0, math.nan, {})
    row = result_of(rows, "r35.2023_2025.commune.area70_pop70.population")
    assert (row.passed, row.value, row.margin) == (None, None, None)
    assert overall_status(rows) == "unknown"
    rows = _r35_rows("commune", 40.0, math.nan, {})
    assert overall_status(rows) == "pass"


def test_r35_percentage_override_changes_the_trigger():
    rules = RuleSet.load("R35").with_overrides({"r35.2023_2025.commune.area70_pop70.area_km2": 50})
    rows = rules.check_unit(UnitFigures(kind=UnitKind.commune, area_km2=16.0, population=5000))
    row = result_of(rows, "r35.2023_2025.commune.area70_pop70.area_km2")
    assert (row.threshold, row.passed, row.confirmed) == (15.0, True, False)
    assert "statutory 70 %" in row.note


# --------------------------------------------------------------------------------------------
# R112: numbers not confirmed
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("figures", [
    UnitFigures(kind=UnitKind.commune, area_km2=40.0, population=20_000),
    UnitFigures(kind=UnitKind.commune, area_km2=10.0, population=2000, island=True),
    UnitFigures(kind=UnitKind.ward, area_km2=6.0, population=25_000),
    UnitFigures(kind=UnitKind.special_zone, area_km2=6.0, population=25_000),
])
def test_every_r112_unit_result_is_unconfirmed_with_a_note(figures):
    results = RuleSet.load("R112").check_unit(figures)
    expected_rules = {UnitKind.commune: ["r112.commune.area_km2", "r112.commune.population"],
                      UnitKind.ward: ["r112.ward.area_km2", "r112.ward.population"],
                      UnitKind.special_zone: ["r112.special_zone.no_standard"]}[figures.kind]
    assert [r.rule for r in results] == expected_rules
    for result in results:
        assert result.confirmed is False
        assert "NOT confirmed" in result.note


def test_every_r112_parent_result_is_unconfirmed_with_a_note():
    rules = RuleSet.load("R112")
    assert rules.confirmed is False
    for kind in ParentKind:
        for result in rules.check_parent(ParentFigures(kind=kind, area_km2=3000.0, population=3e6,
                                                       n_units=40, n_wards=20)):
            assert result.confirmed is False
            assert "NOT confirmed" in result.note


def test_r1211_town_figures_from_memory_are_flagged_unconfirmed():
    results = RuleSet.load("R1211").check_parent(ParentFigures(kind=ParentKind.town, area_km2=250.0,
                                                               population=120_000, n_units=12, n_wards=7))
    assert {r.confirmed for r in results} == {False}
    assert overall_status(results) == "pass"


# --------------------------------------------------------------------------------------------
# Loading, listing, overrides, user files, malformed files
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, expected_id", [("R76", "R76"), ("r76", "R76"), ("76/2025", "R76"),
                                               ("76/2025/UBTVQH15", "R76"), ("R1211", "R1211"),
                                               ("1211/2016", "R1211"), ("r112", "R112"), ("35/2023", "R35")])
def test_load_accepts_regime_ids_and_resolution_numbers(name, expected_id):
    assert RuleSet.load(name).id == expected_id


def test_load_defaults_to_r76():
    rules = RuleSet.load()
    assert (rules.id, rules.name, rules.confirmed) == ("R76", "76/2025/UBTVQH15", True)


def test_load_unknown_regime_lists_the_available_ones():
    with pytest.raises(RuleSetError, match="unknown standards regime 'R99'") as info:
        RuleSet.load("R99")
    assert "R76, R112, R1211, R35" in info.value.hint


def test_available_lists_the_four_regimes_with_r76_first():
    entries = RuleSet.available()
    assert [(e["id"], e["confirmed"]) for e in entries] == [("R76", True), ("R112", False), ("R1211", True),
                                                            ("R35", True)]
    assert entries[0]["effective"] == "2025-04-15"


def test_override_replaces_a_threshold_and_flags_it_as_user_set():
    base = RuleSet.load("R76")
    edited = base.with_overrides({"r76.ward.population": 20_000, "r76.ward.population@central_city": 40_000})
    figures = UnitFigures(kind=UnitKind.ward, area_km2=6.0, population=20_500)
    result = result_of(edited.check_unit(figures), "r76.ward.population")
    assert (result.threshold, result.passed, result.confirmed) == (20_000.0, True, False)
    assert "statutory value 21,000" in result.note
    central = result_of(edited.check_unit(UnitFigures(kind=UnitKind.ward, area_km2=6.0, population=41_000,
                                                      central_city=True)), "r76.ward.population")
    assert (central.threshold, central.passed) == (40_000.0, True)
    # the built-in rule set is unchanged
    assert result_of(base.check_unit(figures), "r76.ward.population").threshold == 21_000.0


def test_override_of_a_special_factor_percentage():
    edited = RuleSet.load("R1211").with_overrides({"r1211.factor.red_river_delta": 60})
    result = result_of(edited.check_unit(UnitFigures(kind=UnitKind.commune, area_km2=20.0, population=9000,
                                                     red_river_delta=True)), "r1211.commune.area_km2")
    assert (result.threshold, result.passed, result.confirmed) == (18.0, True, False)


@pytest.mark.parametrize("overrides, message", [
    ({"r76.ward.populaton": 20000}, "no such rule"),
    ({"r76.ward.population@island": 20000}, "no such rule"),
    ({"r76.ward.population": "20k"}, "positive number"),
    ({"r76.ward.population": -5}, "positive number"),
])
def test_bad_override_is_refused_with_the_rule_named(overrides, message):
    with pytest.raises(RuleSetError, match=message) as info:
        RuleSet.load("R76").with_overrides(overrides)
    assert info.value.context["rule"] == next(iter(overrides))


def test_override_keys_include_rules_variants_and_factors():
    keys = RuleSet.load("R1211").override_keys()
    assert {"r1211.commune.population", "r1211.commune.population@mountainous",
            "r1211.factor.ethnic_or_border", "r1211.ward.population@town"} <= set(keys)


def test_user_yaml_copy_with_an_edited_threshold_is_loaded(tmp_path: Path):
    data = RuleSet.load("R76").to_dict()
    data.pop("source")
    data["id"], data["name"] = "R76-local", "R76 with a local ward floor"
    next(r for r in data["rules"] if r["id"] == "r76.ward.area_km2")["threshold"] = 5.0
    path = tmp_path / "local.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    rules = RuleSet.load(path)
    assert (rules.id, rules.source) == ("R76-local", str(path))
    area = result_of(rules.check_unit(UnitFigures(kind=UnitKind.ward, area_km2=5.2, population=30_000)),
                     "r76.ward.area_km2")
    assert (area.threshold, area.passed) == (5.0, True)
    # the provincial-city fallback still resolves R1211 from the built-in rules
    assert result_of(rules.check_parent(ParentFigures(kind=ParentKind.provincial_city, area_km2=160.0,
                                                      population=160_000, n_units=10, n_wards=7)),
                     "r1211.provincial_city.area_km2").passed is True


def test_user_yaml_extending_a_regime_with_overrides(tmp_path: Path):
    path = tmp_path / "our-rules.yml"
    path.write_text("extends: R76\nname: R76, ward floor 20,000\noverrides:\n  r76.ward.population: 20000\n",
                    encoding="utf-8")
    rules = RuleSet.load(str(path))
    assert (rules.id, rules.name) == ("R76", "R76, ward floor 20,000")
    result = result_of(rules.check_unit(UnitFigures(kind=UnitKind.ward, area_km2=6.0, population=20_000)),
                       "r76.ward.population")
    assert (result.threshold, result.passed, result.confirmed) == (20_000.0, True, False)


_MINIMAL_RULE = """\
id: T1
name: test regime
citation: test citation
confirmed: true
rules:
  - id: t1.ward.area_km2
    level: unit
    kinds: [ward]
    criterion: area_km2
    comparison: ">="
    threshold: 5.5
    citation: "Art. 1"
    confirmed: true
"""


def test_minimal_hand_written_user_file_works(tmp_path: Path):
    path = tmp_path / "t1.yaml"
    path.write_text(_MINIMAL_RULE, encoding="utf-8")
    results = RuleSet.load(path).check_unit(UnitFigures(kind=UnitKind.ward, area_km2=5.4, population=None))
    assert [(r.rule, r.threshold, r.passed, r.unit) for r in results] == [("t1.ward.area_km2", 5.5, False, "km²")]


@pytest.mark.parametrize("broken, message", [
    (_MINIMAL_RULE.replace("threshold: 5.5", "threshold: '5,5'"), "rule 't1.ward.area_km2': 'threshold' must be"),
    (_MINIMAL_RULE.replace("    threshold: 5.5\n", ""), "rule 't1.ward.area_km2': 'threshold' must be"),
    (_MINIMAL_RULE.replace("threshold: 5.5", "treshold: 5.5"), "rule 't1.ward.area_km2': unknown key"),
    (_MINIMAL_RULE.replace("kinds: [ward]", "kinds: [hamlet]"), "rule 't1.ward.area_km2': unknown unit kind"),
    (_MINIMAL_RULE.replace('comparison: ">="', 'comparison: "=>"'), "rule 't1.ward.area_km2': 'comparison'"),
    (_MINIMAL_RULE.replace("criterion: area_km2", "criterion: area"), "rule 't1.ward.area_km2': unknown criterion"),
    (_MINIMAL_RULE + "    reductions: [nope]\n", "rule 't1.ward.area_km2': unknown special factor"),
    (_MINIMAL_RULE + "    when: {hilly: true}\n", "rule 't1.ward.area_km2': unknown condition"),
    (_MINIMAL_RULE.replace("    confirmed: true\n", "    confirmed: yes please\n"),
     "rule 't1.ward.area_km2': 'confirmed' must be true or false"),
    (_MINIMAL_RULE + _MINIMAL_RULE[_MINIMAL_RULE.index("  - id"):], "rule 't1.ward.area_km2': duplicate id"),
    (_MINIMAL_RULE.replace("citation: test citation\n", ""), "'citation' must be a non-empty text"),
    (_MINIMAL_RULE.replace("    kinds: [ward]", "  kinds: [ward]"), "not valid YAML at line"),
])
def test_malformed_rules_file_names_the_file_and_the_rule(tmp_path: Path, broken, message):
    path = tmp_path / "broken.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(RuleSetError, match=message) as info:
        RuleSet.load(path)
    assert str(path) in info.value.message
    assert info.value.hint


_FACTOR = """\
special_factors:
  - id: t1.factor.ethnic
    criterion: area_km2
    when: {ethnic_minority_share_min: 0.3}
    pct_of_standard: 70
    citation: "Art. 3a"
    confirmed: true
"""


@pytest.mark.parametrize("broken, rule, field, message", [
    (_MINIMAL_RULE + "    variants:\n      - {name: hilly, when: {mountainous: true}, threshold: 4, thresold: 3}\n",
     "t1.ward.area_km2", "thresold", "unknown key(s) ['thresold'] in a variant"),
    (_MINIMAL_RULE + "    when: {mountainous: 'yes'}\n", "t1.ward.area_km2", "mountainous",
     "'mountainous' must be true or false, got 'yes'"),
    (_MINIMAL_RULE + "    when: {parent_kind: [village]}\n", "t1.ward.area_km2", "parent_kind",
     "unknown parent kind(s) ['village']"),
    (_MINIMAL_RULE + _FACTOR.replace("0.3", "30"), "t1.factor.ethnic", "ethnic_minority_share_min",
     "must be a share between 0 and 1, got 30"),
    (_MINIMAL_RULE + _FACTOR.replace("pct_of_standard: 70", "pct_of_standard: 120"), "t1.factor.ethnic",
     "pct_of_standard", "would raise the standard"),
    (_MINIMAL_RULE + "    reductions: [t1.factor.ethnic]\n" + _FACTOR, None, None, None),
    (_MINIMAL_RULE + "    note_vi: \"ghi chú\"\n", "t1.ward.area_km2", "note_vi",
     "'note_vi' is given without 'note'"),
    (_MINIMAL_RULE.replace("kinds: [ward]", "kinds: [province]"), "t1.ward.area_km2", "kinds",
     "unknown unit kind(s) ['province']"),
    (_MINIMAL_RULE.replace("level: unit", "level: parent").replace("kinds: [ward]", "kinds: [province]")
     .replace("criterion: area_km2", "criterion: subunits").replace("comparison: \">=\"", "comparison: \">=\"\n"
                                                                    "    count: everything"),
     "t1.ward.area_km2", "count", "'count' must be one of 'units' or 'wards'"),
])
def test_a_rules_file_error_names_the_rule_and_the_field(tmp_path: Path, broken, rule, field, message):
    path = tmp_path / "broken.yaml"
    path.write_text(broken, encoding="utf-8")
    if message is None:  # a well-formed file (the control case of the table)
        assert RuleSet.load(path).id == "T1"
        return
    with pytest.raises(RuleSetError) as info:
        RuleSet.load(path)
    assert message in info.value.message
    assert info.value.context == {"file": str(path), "rule": rule, "field": field}
    assert info.value.hint


def test_a_reduction_of_another_criterion_is_refused(tmp_path: Path):
    path = tmp_path / "t1.yaml"
    path.write_text(_MINIMAL_RULE + "    reductions: [t1.factor.ethnic]\n"
                    + _FACTOR.replace("criterion: area_km2", "criterion: population"), encoding="utf-8")
    with pytest.raises(RuleSetError, match="'t1.factor.ethnic' reduces population, not area_km2") as info:
        RuleSet.load(path)
    assert (info.value.context["rule"], info.value.context["field"]) == ("t1.ward.area_km2", "reductions")


def test_an_extends_file_with_an_unknown_key_is_refused(tmp_path: Path):
    path = tmp_path / "ours.yaml"
    path.write_text("extends: R76\nrules: []\noverrides: {r76.ward.population: 20000}\n", encoding="utf-8")
    with pytest.raises(RuleSetError, match=r"unknown key\(s\) \['rules'\] in an 'extends' file") as info:
        RuleSet.load(path)
    assert "overrides" in info.value.hint


def test_triggers_without_a_baseline_are_refused(tmp_path: Path):
    data = yaml.safe_load((RULES_DIR / "r35.yaml").read_text(encoding="utf-8"))
    del data["baseline"]
    path = tmp_path / "r35-copy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RuleSetError, match="needs 'baseline'") as info:
        RuleSet.load(path)
    assert info.value.hint == "add baseline: R1211"


def _rules_schema():
    import json

    import jsonschema

    schema = json.loads((Path(__file__).parents[2] / "docs" / "contract" / "rules.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", sorted(RULES_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_every_builtin_rules_file_validates_against_the_published_schema(path: Path):
    _rules_schema().validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def test_the_published_schema_refuses_a_misspelt_key():
    data = yaml.safe_load((RULES_DIR / "r76.yaml").read_text(encoding="utf-8"))
    data["rules"][0]["treshold"] = 30
    errors = list(_rules_schema().iter_errors(data))
    assert [list(e.absolute_path) for e in errors] == [["rules", 0]]
    assert "treshold" in errors[0].message


def test_missing_rules_file_is_a_rule_set_error(tmp_path: Path):
    with pytest.raises(RuleSetError, match="rules file not found"):
        RuleSet.load(tmp_path / "nope.yaml")


# --------------------------------------------------------------------------------------------
# Figures, results and status
# --------------------------------------------------------------------------------------------
def test_missing_value_gives_unknown_with_a_note():
    results = RuleSet.load("R76").check_unit(UnitFigures(kind="phuong", area_km2=6.0, population=math.nan))
    population = result_of(results, "r76.ward.population")
    assert (population.passed, population.value, population.margin, population.percent_of_standard) == \
        (None, None, None, None)
    assert "population missing" in population.note
    assert overall_status(results) == "unknown"


def test_figures_accept_vietnamese_kind_names():
    figures = UnitFigures(kind="xa", area_km2=1.0, population=1.0, parent_kind="quan")
    assert (figures.kind, figures.parent_kind) == (UnitKind.commune, ParentKind.urban_district)


def test_result_to_dict_has_the_contract_keys():
    result = result_of(RuleSet.load("R76").check_unit(UnitFigures(kind=UnitKind.ward, area_km2=6.0,
                                                                  population=23_000)), "r76.ward.population")
    citation = {"en": "Res. 76/2025/UBTVQH15, Art. 5 cl. 1 pt. c",
                "vi": "Nghị quyết 76/2025/UBTVQH15, Điều 5 khoản 1 điểm c"}
    assert result.to_dict("en") == {
        "rule": "r76.ward.population", "criterion": "population", "passed": True, "value": 23000.0,
        "threshold": 21000.0, "unit": PEOPLE, "comparison": ">=", "margin": 2000.0, "percent_of_standard": 109.5,
        "citation": citation["en"], "confirmed": True, "exempt": False, "note": None, "variant": None,
        "citation_message": {"code": "note.text", "params": {"text": citation}}, "note_messages": [],
        "status": "pass"}
    # Vietnamese by default: the legal basis as the annex cites it
    assert result.to_dict()["citation"] == citation["vi"]


def test_notes_are_typed_messages_rendered_in_either_language():
    results = RuleSet.load("R76").check_unit(UnitFigures(kind=UnitKind.commune, area_km2=20.0, population=9_000,
                                                         n_members=3))
    population = result_of(results, "r76.commune.population")
    assert [m.code for m in population.notes] == ["note.derivation", "note.exempt_with"]
    assert population.note_text("vi") == (
        "ngưỡng = 200 % × 8.000 người (tiêu chuẩn xã theo Nghị quyết 1211); miễn: hợp nhất 3 đơn vị (≥ 3) — "
        "sắp xếp từ 3 đơn vị hành chính cấp xã trở lên: không bắt buộc đạt tiêu chuẩn tại khoản 1 Điều 5 "
        "(số liệu chỉ để tham khảo)")
    assert population.citation_text("vi") == ("Nghị quyết 76/2025/UBTVQH15, Điều 5 khoản 1 điểm b "
                                              "(miễn: Nghị quyết 76/2025/UBTVQH15, Điều 5 khoản 2)")


def test_every_text_of_the_builtin_rule_files_has_its_vietnamese_text():
    missing = []

    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("citation", "note", "fail_note", "unconfirmed_note", "derivation", "period",
                           "assume_if_missing") and f"{key}_vi" not in node:
                    missing.append(f"{where}.{key}")
                walk(value, f"{where}.{node.get('id', key)}")
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{where}[{index}]")

    for path in sorted(RULES_DIR.glob("*.yaml")):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)
    assert missing == []


def test_ruleset_to_dict_round_trips_through_yaml():
    data = RuleSet.load("R1211").to_dict()
    assert (data["id"], len(data["rules"]), data["source"].endswith("r1211.yaml")) == ("R1211", 27, True)
    again = RuleSet({k: v for k, v in yaml.safe_load(yaml.safe_dump(data)).items() if k != "source"},
                    source="copy")
    assert [r.id for r in again.rules] == [r.id for r in RuleSet.load("R1211").rules]


def _result(passed, exempt=False) -> RuleResult:
    return RuleResult(rule="x", criterion="population", passed=passed, value=1.0, threshold=1.0, unit=PEOPLE,
                      comparison=">=", margin=0.0, percent_of_standard=100.0, cite={"vi": "c", "en": "c"}, confirmed=True,
                      exempt=exempt)


@pytest.mark.parametrize("results, status", [
    ([], "unknown"),
    ([_result(True), _result(True)], "pass"),
    ([_result(True), _result(False)], "fail"),
    ([_result(None), _result(True)], "unknown"),
    ([_result(None), _result(False)], "fail"),
    ([_result(False, exempt=True), _result(True, exempt=True)], "exempt"),
    ([_result(True, exempt=True), _result(True, exempt=True)], "pass"),
    ([_result(None, exempt=True)], "exempt"),
])
def test_overall_status(results, status):
    assert overall_status(results) == status
