from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "drugratings.portal"
    label = "portal"

    def ready(self) -> None:
        from drugratings.core.jobs import register_job

        # By path: the release builder (numpy, OpenDP) is needed by the worker only.
        register_job("release", 30, "drugratings.portal.jobs.release_job")
        register_job("quarterly-reports", 35, "drugratings.portal.jobs.quarterly_job")
