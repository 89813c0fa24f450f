from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from simple_history.models import HistoricalRecords

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
    # Printed wherever a patient is told to get in touch (aftercare, consent, report, the
    # public form), so "call the clinic" always comes with the number.
    phone = models.CharField(
        max_length=32,
        blank=True,
        validators=[RegexValidator(r"^\+?[0-9 ()-]{6,31}$", "Digits, spaces, + ( ) - only.")],
        help_text="Reception telephone, in international form, e.g. +44 20 7946 0000.",
    )
    email = models.EmailField("e-mail address", blank=True)
    currency = models.CharField(
        max_length=3,
        default="EUR",
        validators=[RegexValidator(r"^[A-Z]{3}$", "A three-letter ISO 4217 code, e.g. GBP.")],
        help_text="The currency this site quotes in (ISO 4217, e.g. GBP, EUR, TRY).",
    )
    timezone = models.CharField(max_length=64, default="Europe/London")
    history = HistoricalRecords()

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
    is_reviewer = models.BooleanField(
        "blinded photo reviewer",
        default=False,
        help_text="A physician who also scores blinded before/after photo pairs "
        "(never of the patients they treated). Set by an administrator.",
    )

    # Who changed a role, a site, an admin permission or an account's status, and when; the
    # password hash and the login stamp are kept out (a password change still shows as a change).
    history = HistoricalRecords(
        excluded_fields=["password", "last_login"],
        m2m_fields=["sites", "groups", "user_permissions"],
    )

    REQUIRED_FIELDS = ["email"]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args, **kwargs):
        # A login only stamps last_login (``update_last_login``): not an account change.
        login_only = set(kwargs.get("update_fields") or ()) == {"last_login"}
        if login_only and not hasattr(self, "skip_history_when_saving"):
            return self.save_without_historical_record(*args, **kwargs)
        return super().save(*args, **kwargs)
