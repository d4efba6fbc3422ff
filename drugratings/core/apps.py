from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "drugratings.core"
    label = "core"
