"""Password sign-in as Django's ModelBackend, with the per-request user read made cheap."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from drugratings.accounts.access import signed_in_user
from drugratings.accounts.models import User

# What `login()` records in new sessions. Sessions that recorded Django's ModelBackend (listed
# second in settings) stay signed in and are read the ORM's way.
BACKEND = "drugratings.accounts.backends.UserBackend"


class UserBackend(ModelBackend):
    def get_user(self, user_id: int) -> User | None:  # type: ignore[override]
        user = signed_in_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
