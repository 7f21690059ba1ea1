"""Thin FastAPI service and CLI of diagioi."""
