from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "drugratings.accounts"
    label = "accounts"
