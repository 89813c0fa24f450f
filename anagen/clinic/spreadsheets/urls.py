from django.urls import path

from . import views

app_name = "spreadsheets"
urlpatterns = [path("", views.table_import, name="import")]
