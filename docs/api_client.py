"""An Anagen API client: book a consultation, record an assessment, read the patient back.

Standard library only. Run with the clinic's address, an API token (Security → API tokens)
of a physician, and the patient's MRN:

    ANAGEN_URL=https://clinic.example ANAGEN_TOKEN=ank_… python docs/api_client.py AN0000001
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from datetime import datetime, timedelta, timezone
from urllib.error import HTTPError
from urllib.request import Request, urlopen

BASE = os.environ["ANAGEN_URL"].rstrip("/") + "/api/v1"
TOKEN = os.environ["ANAGEN_TOKEN"]


def call(method: str, path: str, body: dict | None = None) -> dict:
    """One API call; a refusal raises with the API's structured error (code, message, field)."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
        headers["Idempotency-Key"] = str(uuid.uuid4())  # a retry of this call acts once
    request = Request(BASE + path, data=data, headers=headers, method=method)
    try:
        with urlopen(request, timeout=30) as response:  # noqa: S310 (the clinic's own URL)
            return json.load(response)
    except HTTPError as refused:
        error = json.load(refused)
        raise SystemExit(f"{method} {path}: {error['code']} {error['field'] or ''} {error['message']}")


def main(mrn: str) -> dict:
    patient = call("GET", f"/patients/?mrn={mrn}")["results"][0]
    clinician = next(
        c for c in call("GET", f"/clinicians/?site={patient['site']}")["results"]
        if c["role"] == "physician"
    )
    tomorrow_10 = (datetime.now(timezone.utc) + timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    consult = call(
        "POST",
        "/appointments/",
        {
            "patient": patient["id"],
            "kind": "consult",
            "starts_at": tomorrow_10.isoformat(),
            "clinician": clinician["id"],
        },
    )
    assessment = call(
        "POST",
        "/assessments/",
        {
            "patient": patient["id"],
            "pattern": "thinning",
            "norwood": "III",
            "ferritin": 60,
            "tsh": 1.8,
            "vitamin_d": 75,
            "haemoglobin": 14.1,
            "pull_test": "negative",
        },
    )
    record = {
        "patient": call("GET", f"/patients/{patient['id']}/"),
        "appointments": call("GET", f"/appointments/?patient={patient['id']}")["results"],
        "assessments": call("GET", f"/assessments/?patient={patient['id']}")["results"],
    }
    print(f"Booked consultation {consult['id']} on {consult['starts_at']}")
    print(f"Eligibility: {assessment['decision']['outcome']}")
    print(json.dumps(record, indent=2))
    return record


if __name__ == "__main__":
    main(sys.argv[1])
