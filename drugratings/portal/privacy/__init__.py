"""Everything a pharma output passes through: thresholds, suppression, noise and the ledger.

No module outside `portal.privacy` and `portal.releases` reads ratings for pharma; reports read
only published releases (`portal.access`).
"""
