from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "drugratings.analytics"
    label = "analytics"

    def ready(self) -> None:
        from drugratings.analytics import jobs, reactions
        from drugratings.core.events import rating_changed
        from drugratings.core.jobs import register_job

        register_job("initial-fit", 10, jobs.initial_fit_job)
        register_job("refit", 20, jobs.refit_job)
        rating_changed.subscribe(reactions.refit_on_rating_change)
