from django.apps import AppConfig


class RatingsConfig(AppConfig):
    name = "drugratings.ratings"
    label = "ratings"

    def ready(self) -> None:
        from drugratings.core.events import status_changed
        from drugratings.ratings.actions import recount_after_status_change

        status_changed.subscribe(recount_after_status_change)
