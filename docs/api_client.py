"""An Anagen API client: book a consultation, record an assessment, read the patient back,
and read the patient's whole record as a FHIR R5 Bundle (``Patient/{id}/$everything``).

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
FHIR = os.environ["ANAGEN_URL"].rstrip("/") + "/fhir"
TOKEN = os.environ["ANAGEN_TOKEN"]


def call(method: str, path: str, body: dict | None = None, base: str = BASE) -> dict:
    """One API call; a refusal raises with the API's structured error (code, message, field),
    or FHIR's (an OperationOutcome)."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
        headers["Idempotency-Key"] = str(uuid.uuid4())  # a retry of this call acts once
    request = Request(base + path, data=data, headers=headers, method=method)
    try:
        with urlopen(request, timeout=30) as response:  # noqa: S310 (the clinic's own URL)
            return json.load(response)
    except HTTPError as refused:
        error = json.load(refused)
        if error.get("resourceType") == "OperationOutcome":
            issues = "; ".join(i["code"] + " " + i.get("diagnostics", "") for i in error["issue"])
            raise SystemExit(f"{method} {path}: {issues}")
        raise SystemExit(f"{method} {path}: {error['code']} {error['field'] or ''} {error['message']}")


def main(mrn: str) -> dict:
    # The MRN goes in the body: identifiers never go in URLs.
    found = call("POST", "/patients/search/", {"query": mrn})["results"]
    patient = next(p for p in found if p["mrn"] == mrn)
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
        # The whole record as FHIR R5, with the same token: a Bundle of the Patient and every
        # resource about them (Appointment, Encounter, Condition, Observation, ...).
        "everything": call("GET", f"/Patient/{patient['id']}/$everything", base=FHIR),
    }
    print(f"Booked consultation {consult['id']} on {consult['starts_at']}")
    print(f"Eligibility: {assessment['decision']['outcome']}")
    kinds = sorted({e["resource"]["resourceType"] for e in record["everything"]["entry"]})
    print(f"FHIR $everything: {len(record['everything']['entry'])} resources ({', '.join(kinds)})")
    print(json.dumps(record, indent=2))
    return record


if __name__ == "__main__":
    main(sys.argv[1])
