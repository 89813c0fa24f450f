from django.urls import path

from . import views

app_name = "review"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("pairs/create/", views.pairs_create, name="pairs_create"),
    path("<str:token>/", views.pair, name="pair"),
    path("<str:token>/<str:side>.jpg", views.pair_image, name="pair_image"),
]
