from django.apps import AppConfig


class RatingsConfig(AppConfig):
    name = "drugratings.ratings"
    label = "ratings"
