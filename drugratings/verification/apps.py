from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "drugratings.verification"
    label = "verification"
