"""Test support: named personas and a small catalogue, shared by every app's tests."""
