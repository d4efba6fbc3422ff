from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "drugratings.analytics"
    label = "analytics"
