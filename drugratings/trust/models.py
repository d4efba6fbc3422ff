"""Conflicts of interest, manipulation detectors and quarantine (issue 7)."""
