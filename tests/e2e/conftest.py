"""End-to-end fixtures: the API test client fixtures live in api_fixtures (imported here for pytest)."""

from tests.e2e.api_fixtures import api, cheap_key_hashing, sqlite_api

__all__ = ["api", "cheap_key_hashing", "sqlite_api"]
