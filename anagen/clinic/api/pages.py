"""Create and revoke one's own API tokens (listed on the security page, ``mfa/index.html``)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from anagen.clinic.accounts.mfa import second_factor_done
from anagen.clinic.accounts.policy import Perm
from anagen.clinic.common.forms import add_service_errors, submit_once

from . import services, tokens
from .models import ApiToken


class TokenForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="What it is for, e.g. 'EHR bridge'.")
    expires_in_days = forms.IntegerField(
        label="Valid for (days)", min_value=1, max_value=tokens.MAX_DAYS, initial=90
    )
    scopes = forms.MultipleChoiceField(
        label="Permissions",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to give the token everything your role may do.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [
            (p, Perm(p).name.replace("_", " ").capitalize()) for p in tokens.role_permissions(user)
        ]


_SHOW_ONCE = "api_token_show_once"


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@submit_once
def token_create(request):
    form = TokenForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid() and not second_factor_done(request):
        # Like the admin (accounts.admin_site): a token is a way in without the second factor,
        # so it is made only in a session that passed it.
        form.add_error(
            None,
            "Sign out and sign in again with your authenticator app code before creating a token.",
        )
    elif request.method == "POST" and form.is_valid():
        try:
            token, raw = services.token_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                days=form.cleaned_data["expires_in_days"],
                scopes=form.cleaned_data["scopes"] or None,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            # The key is shown once: kept in the session only until the next page shows it.
            request.session[_SHOW_ONCE] = {"pk": token.pk, "key": raw}
            return redirect("api_tokens:created", pk=token.pk)
    return render(request, "api/token_form.html", {"form": form})


@never_cache
@login_required
def token_created(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    shown = request.session.pop(_SHOW_ONCE, None)
    key = shown["key"] if shown and shown.get("pk") == token.pk else None
    return render(request, "api/token_created.html", {"token": token, "key": key})


@login_required
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.token_revoke(actor=request.user, token=token)
    messages.success(request, f"The token “{token.name}” is revoked.")
    return redirect("mfa_index")
