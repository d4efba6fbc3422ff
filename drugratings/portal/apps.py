from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "drugratings.portal"
    label = "portal"

    def ready(self) -> None:
        from drugratings.core.jobs import register_job
        from drugratings.portal import jobs

        register_job("release", 30, jobs.release_job)
