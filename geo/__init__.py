"""diagioi domain core: units, areas, adjacency, scenarios, standards, population, exports."""
