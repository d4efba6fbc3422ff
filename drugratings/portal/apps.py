from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "drugratings.portal"
    label = "portal"
