"""Simulation study and real-data check of :mod:`ratingstats`.

Run ``python -m ratingstats.validation --out reports/validation``; see :mod:`.study` for the
targets and :mod:`.simulate` for the scenarios.
"""
