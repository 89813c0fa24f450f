"""Which login name django-axes counts failures against (allauth signs in by e-mail)."""


def login_name(request, credentials) -> str | None:
    credentials = credentials or {}
    name = (
        credentials.get("email")
        or credentials.get("username")
        or (request.POST.get("login") if request is not None else None)
    )
    return name.strip().lower() if name else None
