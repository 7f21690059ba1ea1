"""Zoning layers, map tiles and per-area indicators."""
