"""Celery application: eager in the embedded default, Redis workers with CELERY_BROKER_URL."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anagen.clinic.settings.local")
app = Celery("anagen")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
