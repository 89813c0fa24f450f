from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "anagen.clinic.accounts"
    label = "accounts"
    verbose_name = "Staff and sites"
