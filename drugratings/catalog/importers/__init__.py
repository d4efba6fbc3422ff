"""Readers for the public catalogue sources. Each yields typed records and reports bad rows."""
