from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "drugratings.analytics"
    label = "analytics"

    def ready(self) -> None:
        from drugratings.analytics import reactions
        from drugratings.core.events import rating_changed, standing_changed
        from drugratings.core.jobs import register_job

        # By path: analytics.jobs imports the model fit (scipy), needed by the worker only.
        register_job("initial-fit", 10, "drugratings.analytics.jobs.initial_fit_job")
        register_job("refit", 20, "drugratings.analytics.jobs.refit_job")
        rating_changed.subscribe(reactions.refit_on_rating_change)
        standing_changed.subscribe(reactions.refit_on_standing_change)
