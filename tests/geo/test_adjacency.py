"""Adjacency: who borders whom, how long the border is, overlaps, contiguity, islands."""
import pytest
import shapely

from diagioi.geo.adjacency import build_adjacency


def test_grid_neighbours_are_rook_not_queen(grid_units):
    graph = grid_units.graph
    assert sorted(graph.neighbours["00005"]) == ["00002", "00004", "00006", "00008"]
    assert sorted(graph.neighbours["00001"]) == ["00002", "00004"]
    assert not graph.are_neighbours("00001", "00005")  # corner contact only


def test_shared_border_length_is_one_km(grid_units):
    # 1 km of TM-3 grid is 1/0.9999 km on the ground.
    assert grid_units.graph.shared_border_km("00004", "00005") == pytest.approx(1 / 0.9999, rel=1e-3)
    assert grid_units.graph.shared_border_km("00001", "00009") == 0.0


def test_contiguity_names_the_disconnected_parts(grid_units):
    graph = grid_units.graph
    assert graph.components(["00001", "00002", "00003"]) == [["00001", "00002", "00003"]]
    assert graph.components(["00001", "00003", "00009"]) == [["00001"], ["00003"], ["00009"]]
    assert graph.components(["00001", "00002", "00009", "00006"]) == [["00001", "00002"], ["00006", "00009"]]
    assert graph.is_contiguous([])


def test_slivers_and_overlaps_between_sloppy_neighbours():
    left = shapely.box(105.0, 21.0, 105.01, 21.01)
    gap = shapely.box(105.01 + 0.0001, 21.0, 105.02, 21.01)        # ~10 m gap: still neighbours
    overlapping = shapely.box(105.01 - 0.0005, 21.0, 105.02, 21.01)  # ~50 m overlap
    graph = build_adjacency(["a", "b"], [left, gap])
    assert graph.are_neighbours("a", "b")
    assert graph.overlap_km2("a", "b") == 0.0
    graph = build_adjacency(["a", "c"], [left, overlapping])
    assert graph.are_neighbours("a", "c")
    expected = 0.0005 * 0.01 / (0.01 * 0.01) * 1.1485  # 5 % of a ~1.1485 km² cell
    assert graph.overlap_km2("a", "c") == pytest.approx(expected, rel=0.01)
    assert graph.internal_overlap_km2(["a", "c"]) == pytest.approx(expected, rel=0.01)


def test_far_apart_units_and_island_parts_do_not_crash():
    mainland = shapely.box(105.0, 21.0, 105.1, 21.1)
    island_unit = shapely.MultiPolygon([shapely.box(105.1, 21.0, 105.2, 21.1), shapely.box(105.5, 21.5, 105.52, 21.52)])
    far = shapely.box(106.0, 22.0, 106.1, 22.1)
    graph = build_adjacency(["m", "i", "f"], [mainland, island_unit, far])
    assert graph.neighbours["m"] == frozenset({"i"})
    assert graph.neighbours["f"] == frozenset()
    assert graph.parts["i"] == 2
    assert graph.notes == ("i has 2 separate parts (island/exclave)",)
    assert graph.components(["m", "f"]) == [["f"], ["m"]]
