from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "drugratings.web"
    label = "web"

    def ready(self) -> None:
        from drugratings.core.jobs import register_job

        # After the release job (30): the notification digest is the least urgent step.
        register_job("digests", 40, "drugratings.web.digests.digest_job")
