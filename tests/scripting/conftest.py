"""Fixtures for the scripting tests (shared with the other Lua test folder)."""

from lua_pair import both  # noqa: F401
