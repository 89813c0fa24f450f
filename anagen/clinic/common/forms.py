"""Small form helpers shared by every clinic app."""

from __future__ import annotations

import uuid
from functools import wraps

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import redirect

#: Name of the hidden input that carries a form's one-time submission token.
SUBMISSION_TOKEN = "form_token"  # noqa: S105 (a field name, not a secret)
ALREADY_SAVED = "This was already saved; here is the record from the first submission."


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def choose(choices) -> list[tuple[object, str]]:
    """``choices`` after an empty "choose" entry: a clinical field opens with nothing
    preselected, so a value is always someone's decision, never a default left in place."""
    return [("", "— choose —"), *choices]


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field where the form has one."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            target = field if field in form.fields else None
            for message in messages:
                form.add_error(target if field != NON_FIELD_ERRORS else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


def submission_token_input() -> str:
    """A fresh one-time token for a form being rendered (``{% submission_token %}``)."""
    return str(uuid.uuid4())


def submit_once(view):
    """Make a create view idempotent: one saved result per rendered form.

    A POST carrying a ``form_token`` runs the view inside one transaction that also
    inserts the token (``SubmittedForm``). When the view succeeds (a redirect), the row keeps
    the redirect target and commits together with the record; when it re-renders the form
    (refused input) the row is removed, so the corrected form can be sent again. A second POST
    with the same token (back + resubmit, a double click, a retry after a timeout) finds the
    row and is redirected to the first result, "This was already saved". Two posts racing with
    one token serialise on the unique index: the loser sees the winner's row.

    Posts without a token (API clients, scripts) run as before, unguarded.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        raw = request.POST.get(SUBMISSION_TOKEN, "") if request.method == "POST" else ""
        if not raw:
            return view(request, *args, **kwargs)
        try:
            token = uuid.UUID(raw)
        except ValueError:
            return HttpResponseBadRequest("Malformed submission token.")
        from .models import SubmittedForm

        user = request.user if request.user.is_authenticated else None
        try:
            with transaction.atomic():
                claim = SubmittedForm.objects.create(token=token, user=user, result_url="")
                response = view(request, *args, **kwargs)
                if isinstance(response, HttpResponseRedirect):
                    claim.result_url = response.url[:500]
                    claim.save(update_fields=["result_url"])
                else:
                    claim.delete()  # nothing was saved: the same form may be sent again
                return response
        except IntegrityError:
            first = SubmittedForm.objects.filter(token=token).first()
            if first is None:
                raise  # not the token's unique index: a real integrity error of the view
        if first.user_id != (user.pk if user else None):
            raise PermissionDenied("This form was submitted by someone else.")
        messages.info(request, ALREADY_SAVED)
        return redirect(first.result_url)

    wrapper.submits_once = True  # lets a test check that every create view is guarded
    return wrapper
