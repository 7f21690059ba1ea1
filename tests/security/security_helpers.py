"""Constants shared by the attack tests (imported by name: tests/security is on sys.path)."""
from __future__ import annotations

TOKEN = "security-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
