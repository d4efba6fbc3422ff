from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "drugratings.web"
    label = "web"
