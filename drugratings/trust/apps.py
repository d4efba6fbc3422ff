from django.apps import AppConfig


class TrustConfig(AppConfig):
    name = "drugratings.trust"
    label = "trust"
