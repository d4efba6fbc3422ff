from drugratings.portal.tests.conftest import world  # noqa: F401  (the rated world fixture)
