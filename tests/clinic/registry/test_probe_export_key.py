"""Probe: without ANAGEN_EXPORT_KEY a researcher asking for the outcome table gets a clear
"not configured" page (503), never a server error, and the export page offers only the
dictionaries, which need no key."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from tests.clinic.conftest import make_user
from tests.clinic.registry.seed import seed_patient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("key", ["", "too-short"])
def test_export_without_a_key_says_so(key, site, staff):
    seed_patient(staff[Role.NURSE], site, n=1, densities={0: 100.0, 92: 110.0})
    researcher = make_user(Role.RESEARCHER, site, email="res-key@example.test")
    client = Client(raise_request_exception=False)
    client.force_login(researcher)
    with override_settings(ANAGEN_EXPORT_KEY=key):
        for kind in ("csv", "parquet"):
            response = client.get(reverse("registry:export_file", args=[kind]))
            assert response.status_code == 503
            assert "ANAGEN_EXPORT_KEY" in response.content.decode()
        page = client.get(reverse("registry:export")).content.decode()
        assert "cannot be exported yet" in page
        assert reverse("registry:export_file", args=["csv"]) not in page
        assert reverse("registry:export_file", args=["redcap"]) in page
        dictionary = client.get(reverse("registry:export_file", args=["dictionary-csv"]))
        assert dictionary.status_code == 200


def test_the_command_without_a_key_writes_nothing(site, staff, tmp_path):
    from django.core.management import CommandError, call_command

    seed_patient(staff[Role.NURSE], site, n=2, densities={0: 100.0})
    outdir = tmp_path / "out"
    with override_settings(ANAGEN_EXPORT_KEY=""), pytest.raises(CommandError, match="KEY"):
        call_command("export_registry", str(outdir))
    assert not outdir.exists()
