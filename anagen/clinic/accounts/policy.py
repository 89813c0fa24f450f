"""Who may do what: the one access policy of the clinic.

Every role holds a set of permissions (``PERMISSIONS``); every write service asks ``require``
before it touches anything, every page is mapped to the permissions that read and write it
(``PAGES``, enforced by ``RoleAccessMiddleware``), and templates ask the same table through the
``can`` context variable (``{% if can.product_release %}``). Nothing else in the code base decides
access by comparing role names.

Site scoping (a member of staff sees and changes only the records of the sites they work at) is
the second half of every check, and lives in ``access.py``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied

from .roles import Role

if TYPE_CHECKING:
    from .models import User

#: Refusals are logged with ids and action names only, never a patient's details.
logger = logging.getLogger("anagen.access")


class Perm(StrEnum):
    """One thing a member of staff may do, named as the clinic says it."""

    PATIENT_VIEW = "patient_view"
    PATIENT_REGISTER = "patient_register"
    PATIENT_EDIT = "patient_edit"
    INQUIRY_VIEW = "inquiry_view"
    INQUIRY_WORK = "inquiry_work"
    DAY_VIEW = "day_view"
    APPOINTMENT_BOOK = "appointment_book"
    APPOINTMENT_HOLD = "appointment_hold"  # may be booked as the clinician of an appointment
    ASSESSMENT_VIEW = "assessment_view"
    ASSESSMENT_RECORD = "assessment_record"
    ELIGIBILITY_OVERRIDE = "eligibility_override"
    AUDIT_VIEW = "audit_view"
    AUDIT_NETWORK_VIEW = "audit_network_view"  # the network-wide audit log and its export
    PLAN_VIEW = "plan_view"
    PLAN_WRITE = "plan_write"
    CONSENT_WITNESS = "consent_witness"
    CONSENT_PDF_VIEW = "consent_pdf_view"
    HARVEST_RECORD = "harvest_record"
    LAB_VIEW = "lab_view"
    PRODUCT_VIEW = "product_view"
    PRODUCT_PROCESS = "product_process"  # results, aliquots, custody, labels
    PRODUCT_RELEASE = "product_release"
    PRODUCT_STORE = "product_store"  # cryo storage and thawing
    PRODUCT_DISCARD = "product_discard"
    PRODUCT_EXPIRE_SWEEP = "product_expire_sweep"
    SESSION_VIEW = "session_view"
    SESSION_ADMINISTER = "session_administer"
    SESSION_VERIFY = "session_verify"
    AFTERCARE_PRINT = "aftercare_print"
    ADVERSE_EVENT_REPORT = "adverse_event_report"
    FOLLOW_UPS_VIEW = "follow_ups_view"
    IMAGING_VIEW = "imaging_view"
    IMAGING_CAPTURE = "imaging_capture"  # take, upload and correct images
    # --- progress page and patient report (issue 11) ---
    PROGRESS_REPORT = "progress_report"  # print the patient's progress report (PDF)
    # --- registry (issue 11: registry pages, what to expect, de-identified export) ---
    REGISTRY_VIEW = "registry_view"  # cohort statistics, plots, comparison, cohort PDF
    REGISTRY_EXPORT = "registry_export"  # de-identified CSV/Parquet and data dictionaries
    REGISTRY_EXPECT = "registry_expect"  # the "what to expect" sheet for a patient
    # --- outcome measures (issue 11): visit report, blinded photographic review ---
    GLOBAL_ASSESSMENT_RECORD = "global_assessment_record"  # investigator's −3…+3 score
    REVIEW_PAIRS_CREATE = "review_pairs_create"  # offer before/after photos for review
    REVIEW_SCORE = "review_score"  # score blinded pairs (sees no chart, no name)
    # --- interoperability (issue 13): FHIR R5 ---
    FHIR_READ = "fhir_read"  # read the clinic's records as FHIR (each type also needs its own)
    FHIR_IMPORT = "fhir_import"  # import patients, conditions and observations from a Bundle
    SPREADSHEET_IMPORT = "spreadsheet_import"  # import legacy patient lists and measurements
    # --- patients' data rights (issue 14): the administrator acts as the privacy officer ---
    PATIENT_DATA_EXPORT = "patient_data_export"  # all of one patient's data, as a zip
    PATIENT_ERASE = "patient_erase"  # erasure on request: pseudonymize the patient


P = Perm
_CHART = {P.PATIENT_VIEW, P.DAY_VIEW}
_TREATMENT_READ = {P.PLAN_VIEW, P.PRODUCT_VIEW, P.SESSION_VIEW}
_CLINICAL = (
    _CHART
    | _TREATMENT_READ
    | {
        P.PATIENT_REGISTER,
        P.PATIENT_EDIT,
        P.APPOINTMENT_BOOK,
        P.ASSESSMENT_VIEW,
        P.CONSENT_WITNESS,
        P.CONSENT_PDF_VIEW,
        P.SESSION_VERIFY,
        P.APPOINTMENT_HOLD,
        P.AFTERCARE_PRINT,
        P.ADVERSE_EVENT_REPORT,
        P.FOLLOW_UPS_VIEW,
        P.IMAGING_VIEW,
        P.IMAGING_CAPTURE,
        P.PROGRESS_REPORT,
    }
)
_FRONT_DESK = _CHART | {
    P.PATIENT_REGISTER,
    P.PATIENT_EDIT,
    P.INQUIRY_VIEW,
    P.INQUIRY_WORK,
    P.APPOINTMENT_BOOK,
    P.FOLLOW_UPS_VIEW,
}

PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.PHYSICIAN: frozenset(
        _CLINICAL
        | {
            P.ASSESSMENT_RECORD,
            P.ELIGIBILITY_OVERRIDE,
            P.PLAN_WRITE,
            P.HARVEST_RECORD,
            P.LAB_VIEW,
            P.PRODUCT_DISCARD,
            P.SESSION_ADMINISTER,
            P.GLOBAL_ASSESSMENT_RECORD,
            P.REVIEW_PAIRS_CREATE,
        }
    ),
    Role.NURSE: frozenset(_CLINICAL),
    Role.LAB_TECHNICIAN: frozenset(
        _CHART
        | _TREATMENT_READ
        | {
            P.LAB_VIEW,
            P.PRODUCT_PROCESS,
            P.PRODUCT_RELEASE,
            P.PRODUCT_STORE,
            P.PRODUCT_DISCARD,
            P.PRODUCT_EXPIRE_SWEEP,
        }
    ),
    Role.COORDINATOR: frozenset(_FRONT_DESK | {P.ASSESSMENT_VIEW, P.PLAN_VIEW}),
    Role.AUDITOR: frozenset(
        _CHART
        | _TREATMENT_READ
        | {
            P.INQUIRY_VIEW,
            P.ASSESSMENT_VIEW,
            P.AUDIT_VIEW,
            P.AUDIT_NETWORK_VIEW,
            P.CONSENT_PDF_VIEW,
            P.LAB_VIEW,
            P.IMAGING_VIEW,
        }
    ),
    Role.ADMINISTRATOR: frozenset(_FRONT_DESK | {P.AUDIT_VIEW}),
    Role.RESEARCHER: frozenset(),
    # A blinded reviewer holds this one permission: the review queue and its anonymous pairs.
    Role.REVIEWER: frozenset({P.REVIEW_SCORE}),
}

# --- registry (issue 11) --------------------------------------------------------------------
# Physicians and auditors read the registry; the physician prints the "what to expect" sheet
# from a patient's chart; the researcher reads the registry and takes the de-identified export,
# and nothing else (no chart, no name, no MRN: the registry pages show none to anyone).
_REGISTRY: dict[str, set[Perm]] = {
    Role.PHYSICIAN: {P.REGISTRY_VIEW, P.REGISTRY_EXPECT},
    Role.AUDITOR: {P.REGISTRY_VIEW},
    Role.RESEARCHER: {P.REGISTRY_VIEW, P.REGISTRY_EXPORT},
}
for _role, _perms in _REGISTRY.items():
    PERMISSIONS[_role] = PERMISSIONS[_role] | _perms

# --- FHIR (issue 13) ---------------------------------------------------------------------------
# Clinicians and auditors read the clinic's records as FHIR; a physician imports a Bundle (it
# records assessments). Each resource type also needs the permission of the page that shows it.
_FHIR: dict[str, set[Perm]] = {
    Role.PHYSICIAN: {P.FHIR_READ, P.FHIR_IMPORT, P.SPREADSHEET_IMPORT},
    Role.NURSE: {P.FHIR_READ},
    Role.AUDITOR: {P.FHIR_READ},
}
for _role, _perms in _FHIR.items():
    PERMISSIONS[_role] = PERMISSIONS[_role] | _perms

#: The permission that reads each kind of record as FHIR (besides ``FHIR_READ``): the same
#: permission as the page that shows it. Keys are ``fhir.resources.SOURCES``.
FHIR_SOURCES: dict[str, Perm] = {
    "patient": P.PATIENT_VIEW,  # Patient
    "staff": P.PATIENT_VIEW,  # Practitioner
    "site": P.PATIENT_VIEW,  # Organization, Location
    "assessment": P.ASSESSMENT_VIEW,  # Condition, Observation (stage, pattern, labs)
    "appointment": P.DAY_VIEW,  # Appointment, Encounter
    "plan": P.PLAN_VIEW,  # CarePlan
    "consent": P.CONSENT_PDF_VIEW,  # Consent, DocumentReference (the signed PDF)
    "harvest": P.PRODUCT_VIEW,  # Procedure (harvest), Specimen
    "product": P.PRODUCT_VIEW,  # BiologicallyDerivedProduct
    "session": P.SESSION_VIEW,  # Procedure (session), BiologicallyDerivedProductDispense
    "adverse_event": P.SESSION_VIEW,  # AdverseEvent
    "trichoscopy": P.IMAGING_VIEW,  # DocumentReference (image), Observation (hair measures)
    "audit": P.AUDIT_VIEW,  # AuditEvent
}

# --- patients' data rights (issue 14) ---------------------------------------------------------
# A patient's request to see or erase their data goes to the clinic's privacy officer: in
# Anagen's roles, the administrator (front desk rights plus the audit trail, no clinical writes).
PERMISSIONS[Role.ADMINISTRATOR] = PERMISSIONS[Role.ADMINISTRATOR] | {
    P.PATIENT_DATA_EXPORT,
    P.PATIENT_ERASE,
}

_ARTICLE = {True: "an", False: "a"}


def fhir_token_missing(user: User, scopes: list[str]) -> list[str]:
    """The permissions an API token must carry to read FHIR, and does not: ``FHIR_READ`` and the
    permission of every kind of record the holder's role reads. FHIR answers (``$everything``,
    searches) with every kind the role reads, so a token narrower than that is refused rather
    than answered with more than it carries."""
    needed = {P.FHIR_READ} | {perm for perm in FHIR_SOURCES.values() if allows(user, perm)}
    return sorted(perm.value for perm in needed if perm.value not in scopes)


#: What the administrator-set reviewer flag adds to a physician's role (``User.is_reviewer``).
REVIEWER_FLAG_PERMISSIONS: frozenset[Perm] = frozenset({P.REVIEW_SCORE})


def allows(user: User | None, perm: Perm) -> bool:
    """Whether ``user`` (signed in and active) holds ``perm`` through their role (and, for a
    physician flagged as reviewer, the reviewer's permission)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if perm in PERMISSIONS.get(user.role, frozenset()):
        return True
    flagged = getattr(user, "is_reviewer", False) and user.role == Role.PHYSICIAN
    return flagged and perm in REVIEWER_FLAG_PERMISSIONS


def roles_with(perm: Perm) -> list[str]:
    """The roles that hold ``perm`` (to filter staff lists: who can be booked, who can verify)."""
    return sorted(role for role, perms in PERMISSIONS.items() if perm in perms)


def refusal_logged(user: User | None, what: str) -> None:
    """Log one access refusal as an event: user id, role and the action, no patient details."""
    logger.warning(
        "access refused",
        extra={
            "user_id": getattr(user, "pk", None),
            "role": getattr(user, "role", ""),
            "action": what,
        },
    )


def require(user: User | None, perm: Perm) -> None:
    """Raise ``PermissionDenied`` (and log the refusal) unless ``user`` holds ``perm``."""
    if allows(user, perm):
        return
    refusal_logged(user, str(perm))
    holders = sorted(Role(r).label.lower() for r, perms in PERMISSIONS.items() if perm in perms)
    if not holders:
        raise PermissionDenied("Nobody may do this.")
    names = " or ".join(holders)
    raise PermissionDenied(f"Only {_ARTICLE[names[0] in 'aeiou']} {names} may do this.")


# --- pages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """The permission needed to read a page (GET/HEAD) and to post to it (None: no posting)."""

    read: Perm | None
    write: Perm | None = None

    def allows(self, user: User, method: str) -> bool:
        perm = self.read if method in ("GET", "HEAD", "OPTIONS") else self.write
        return perm is not None and allows(user, perm)


#: Pages anyone may use without logging in.
PUBLIC = frozenset({"intake:request", "intake:request_thanks"})

#: Namespaces whose views are governed by PAGES (allauth and admin guard themselves).
GUARDED_NAMESPACES = frozenset(
    {
        "patients",
        "intake",
        "assessment",
        "audit",
        "treatment",
        "imaging",
        "progress",
        "registry",
        "review",
        "fhir_import",
        "spreadsheets",
        "privacy",
    }
)

PAGES: dict[str, Page] = {
    "privacy:export": Page(read=P.PATIENT_DATA_EXPORT, write=P.PATIENT_DATA_EXPORT),
    "privacy:erase": Page(read=P.PATIENT_ERASE, write=P.PATIENT_ERASE),
    "intake:home": Page(read=P.DAY_VIEW),
    "patients:list": Page(read=P.PATIENT_VIEW, write=P.PATIENT_VIEW),  # POST: the search
    "patients:create": Page(read=P.PATIENT_REGISTER, write=P.PATIENT_REGISTER),
    "patients:chart": Page(read=P.PATIENT_VIEW),
    "patients:edit": Page(read=P.PATIENT_EDIT, write=P.PATIENT_EDIT),
    "patients:photo": Page(read=P.PATIENT_VIEW),
    "intake:inquiries": Page(read=P.INQUIRY_VIEW),
    "intake:inquiry": Page(read=P.INQUIRY_VIEW, write=P.INQUIRY_WORK),
    "intake:convert": Page(read=P.INQUIRY_WORK, write=P.INQUIRY_WORK),
    "intake:day": Page(read=P.DAY_VIEW),
    "intake:week": Page(read=P.DAY_VIEW),
    "intake:appointment_new": Page(read=P.APPOINTMENT_BOOK, write=P.APPOINTMENT_BOOK),
    "intake:appointment_status": Page(read=None, write=P.APPOINTMENT_BOOK),
    "assessment:new": Page(read=P.ASSESSMENT_RECORD, write=P.ASSESSMENT_RECORD),
    "assessment:detail": Page(read=P.ASSESSMENT_VIEW),
    "assessment:override": Page(read=P.ELIGIBILITY_OVERRIDE, write=P.ELIGIBILITY_OVERRIDE),
    "audit:patient": Page(read=P.AUDIT_VIEW),
    "audit:network": Page(read=P.AUDIT_NETWORK_VIEW, write=P.AUDIT_NETWORK_VIEW),  # POST: filters
    # Treatment pathway: plan → consent → harvest → lab → session → follow-up.
    "treatment:plan_new": Page(read=P.PLAN_WRITE, write=P.PLAN_WRITE),
    "treatment:plan": Page(read=P.PLAN_VIEW),
    "treatment:consent_sign": Page(read=P.CONSENT_WITNESS, write=P.CONSENT_WITNESS),
    "treatment:consent_pdf": Page(read=P.CONSENT_PDF_VIEW),
    "treatment:consent_withdraw": Page(read=P.CONSENT_WITNESS, write=P.CONSENT_WITNESS),
    "treatment:harvest_new": Page(read=P.HARVEST_RECORD, write=P.HARVEST_RECORD),
    "treatment:lab_bench": Page(read=P.LAB_VIEW),
    "treatment:lab_home": Page(read=P.LAB_VIEW),
    "treatment:cryo_inventory": Page(read=P.LAB_VIEW),
    "treatment:lab_worklist": Page(read=P.LAB_VIEW),
    "treatment:lab_worklist_pdf": Page(read=P.LAB_VIEW),
    "treatment:expire_sweep": Page(read=None, write=P.PRODUCT_EXPIRE_SWEEP),
    "treatment:product": Page(read=P.PRODUCT_VIEW),
    "treatment:product_results": Page(read=None, write=P.PRODUCT_PROCESS),
    "treatment:product_release": Page(read=None, write=P.PRODUCT_RELEASE),
    "treatment:product_store": Page(read=None, write=P.PRODUCT_STORE),
    "treatment:product_thaw": Page(read=None, write=P.PRODUCT_STORE),
    "treatment:product_discard": Page(read=None, write=P.PRODUCT_DISCARD),
    "treatment:product_split": Page(read=None, write=P.PRODUCT_PROCESS),
    "treatment:label_pdf": Page(read=P.PRODUCT_PROCESS),
    "treatment:label_svg": Page(read=P.PRODUCT_VIEW),
    "treatment:session_new": Page(read=P.SESSION_ADMINISTER, write=P.SESSION_ADMINISTER),
    "treatment:session": Page(read=P.SESSION_VIEW),
    "treatment:aftercare_pdf": Page(read=P.AFTERCARE_PRINT),
    "treatment:adverse_event_new": Page(read=P.ADVERSE_EVENT_REPORT, write=P.ADVERSE_EVENT_REPORT),
    "treatment:follow_ups": Page(read=P.FOLLOW_UPS_VIEW),
    "treatment:follow_up_book": Page(read=P.APPOINTMENT_BOOK, write=P.APPOINTMENT_BOOK),
    # Imaging and outcomes: clinicians take and correct images; auditors read.
    "imaging:visit_new": Page(read=P.IMAGING_CAPTURE, write=P.IMAGING_CAPTURE),
    "imaging:target_site_new": Page(read=P.IMAGING_CAPTURE, write=P.IMAGING_CAPTURE),
    "imaging:visit": Page(read=P.IMAGING_VIEW, write=P.IMAGING_CAPTURE),
    "imaging:trichoscopy": Page(read=P.IMAGING_VIEW, write=P.IMAGING_CAPTURE),
    "imaging:trichoscopy_retry": Page(read=None, write=P.IMAGING_CAPTURE),
    "imaging:trichoscopy_file": Page(read=P.IMAGING_VIEW),
    "imaging:photo_file": Page(read=P.IMAGING_VIEW),
    # --- progress page and patient report (issue 11) ---
    "progress:patient": Page(read=P.IMAGING_VIEW),
    "progress:plot": Page(read=P.IMAGING_VIEW),
    "progress:compare": Page(read=P.IMAGING_VIEW),
    "progress:report": Page(read=P.PROGRESS_REPORT),
    # Registry (issue 11): cohort statistics, comparison, PDF; what to expect; export.
    "registry:home": Page(read=P.REGISTRY_VIEW),
    "registry:plot": Page(read=P.REGISTRY_VIEW),
    "registry:compare": Page(read=P.REGISTRY_VIEW),
    "registry:compare_plot": Page(read=P.REGISTRY_VIEW),
    "registry:cohort_pdf": Page(read=P.REGISTRY_VIEW),
    "registry:expect": Page(read=P.REGISTRY_EXPECT),
    "registry:export": Page(read=P.REGISTRY_EXPORT),
    "registry:export_file": Page(read=P.REGISTRY_EXPORT),
    # --- outcome measures (issue 11): visit report, phototrichogram, blinded review ---
    "review:pairs_create": Page(read=None, write=P.REVIEW_PAIRS_CREATE),
    "review:queue": Page(read=P.REVIEW_SCORE),
    "review:pair": Page(read=P.REVIEW_SCORE, write=P.REVIEW_SCORE),
    "review:pair_image": Page(read=P.REVIEW_SCORE),
    # --- FHIR import (issue 13): upload a Bundle, read the dry run, apply ---
    "fhir_import:upload": Page(read=P.FHIR_IMPORT, write=P.FHIR_IMPORT),
    "spreadsheets:import": Page(read=P.SPREADSHEET_IMPORT, write=P.SPREADSHEET_IMPORT),
}


def home_page(user: User | None) -> str:
    """The URL name of ``user``'s start page (after signing in, and the brand link): the one
    place that decides whose main work is where.

    Whoever books or is booked for appointments starts at the day (``intake:home``); whoever
    processes cell products and has no appointments of their own (the lab technician) starts at
    the lab's home; a researcher at the registry; a blinded reviewer at the review queue.
    """
    day_work = allows(user, P.APPOINTMENT_BOOK) or allows(user, P.APPOINTMENT_HOLD)
    if not day_work and allows(user, P.LAB_VIEW) and allows(user, P.PRODUCT_PROCESS):
        return "treatment:lab_home"
    if not allows(user, P.DAY_VIEW):
        if allows(user, P.REGISTRY_VIEW):
            return "registry:home"
        if allows(user, P.REVIEW_SCORE):
            return "review:queue"
    return "intake:home"


class Can:
    """Template view of the policy: ``{% if can.plan_write %}`` asks ``allows(user, perm)``."""

    def __init__(self, user: User | None):
        self._user = user

    def __getitem__(self, name: str) -> bool:
        if name not in Perm._value2member_map_:
            raise KeyError(name)  # a typo in a template must not read as "refused"
        return allows(self._user, Perm(name))

    def __contains__(self, name: str) -> bool:
        return name in Perm._value2member_map_
