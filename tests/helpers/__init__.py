"""Helpers the tests import by name (``from helpers.server import serving``): tests/ is on sys.path.

Fixtures stay in the conftest files; what a test module calls lives here, so no test imports a conftest.
"""
