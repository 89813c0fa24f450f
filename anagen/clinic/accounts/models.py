from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models

from .roles import Role


class Site(models.Model):
    """A clinic of the network. Every patient belongs to one; staff work at one or more."""

    code = models.CharField(max_length=8, unique=True, help_text="Short code, e.g. LDN")
    facility_code = models.CharField(
        max_length=5,
        default="A9999",
        validators=[RegexValidator(r"^[A-Z][0-9]{4}$", "One capital letter and four digits.")],
        help_text="Facility code at the start of every donation identifier issued here.",
    )
    name = models.CharField(max_length=120)
    address = models.TextField(blank=True)
    timezone = models.CharField(max_length=64, default="Europe/London")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A member of staff. Logs in with e-mail; has one role and works at some sites."""

    email = models.EmailField("e-mail address", unique=True)
    role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    sites = models.ManyToManyField(Site, blank=True, related_name="staff")
    all_sites = models.BooleanField(
        default=False, help_text="Sees every site (network administrators and auditors)."
    )

    REQUIRED_FIELDS = ["email"]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email

    def __str__(self) -> str:
        return self.display_name
