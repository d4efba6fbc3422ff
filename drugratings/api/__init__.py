"""The public JSON API, v1 (see API.md). Routers are thin: they call `access` and `actions`."""
