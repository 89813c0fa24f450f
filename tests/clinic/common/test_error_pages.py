"""The server-error page: clinic words, a way back, and nothing of the failure itself."""

from __future__ import annotations

import pytest
from django.template.loader import get_template
from django.test import override_settings


@pytest.mark.django_db
@pytest.mark.urls("tests.clinic.error_urls")
@override_settings(DEBUG=False)
def test_an_exception_renders_the_clinic_500_page(client, coordinator):
    client.force_login(coordinator)
    client.raise_request_exception = False
    response = client.get("/boom/")
    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in body and "may not have been saved" in body
    assert 'href="/"' in body
    assert "Traceback" not in body and "RuntimeError" not in body and "secret detail" not in body


@pytest.mark.django_db
def test_500_page_needs_no_context_and_no_database(django_assert_max_num_queries):
    # server_error renders it with an empty context; it must not reach for the database
    # (which may be what failed) nor for context processors.
    with django_assert_max_num_queries(0):
        body = get_template("500.html").render()
    assert "Back to the start page" in body
