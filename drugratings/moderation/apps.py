from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "drugratings.moderation"
    label = "moderation"
