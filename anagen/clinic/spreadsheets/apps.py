from django.apps import AppConfig


class SpreadsheetsConfig(AppConfig):
    name = "anagen.clinic.spreadsheets"
    label = "spreadsheets"
    verbose_name = "Spreadsheet import"
