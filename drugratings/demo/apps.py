from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "drugratings.demo"
    label = "demo"
