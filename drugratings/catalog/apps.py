from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "drugratings.catalog"
    label = "catalog"
