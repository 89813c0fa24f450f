"""Staff roles of a clinic and the access policy of every staff page.

The policy is one table: each URL name of the clinic maps to the roles that may read it (GET,
HEAD) and the roles that may write through it (POST). ``RoleAccessMiddleware`` enforces it and
denies any clinic URL missing from the table, and the test suite walks every URL × role, so a new
page without a rule fails the build instead of leaking.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class Role(models.TextChoices):
    PHYSICIAN = "physician", "Physician"
    NURSE = "nurse", "Nurse"
    LAB_TECHNICIAN = "lab_technician", "Lab technician"
    COORDINATOR = "coordinator", "Coordinator"
    AUDITOR = "auditor", "Auditor"
    ADMINISTRATOR = "administrator", "Administrator"


ALL = frozenset(Role.values)
CLINICAL = frozenset({Role.PHYSICIAN, Role.NURSE})
FRONT_DESK = frozenset({Role.COORDINATOR, Role.ADMINISTRATOR})
CHART_READERS = CLINICAL | FRONT_DESK | {Role.AUDITOR, Role.LAB_TECHNICIAN}
NOBODY: frozenset[str] = frozenset()
PHYSICIAN = frozenset({Role.PHYSICIAN})
LAB = frozenset({Role.LAB_TECHNICIAN})
#: Treatment records (plan, product, session) are read by clinicians, the lab and auditors.
TREATMENT_READERS = CLINICAL | LAB | {Role.AUDITOR}


@dataclass(frozen=True)
class Rule:
    read: frozenset[str]
    write: frozenset[str] = NOBODY

    def allows(self, role: str, method: str) -> bool:
        if method in ("GET", "HEAD", "OPTIONS"):
            return role in self.read
        return role in self.write


#: Pages anyone may use without logging in.
PUBLIC = frozenset({"intake:request", "intake:request_thanks"})

#: Namespaces whose views are governed by ACCESS (allauth and admin guard themselves).
GUARDED_NAMESPACES = frozenset(
    {"core", "patients", "intake", "assessment", "audit", "treatment", "imaging"}
)

ACCESS: dict[str, Rule] = {
    "core:home": Rule(read=ALL),
    "patients:list": Rule(read=CHART_READERS),
    "patients:create": Rule(read=FRONT_DESK | CLINICAL, write=FRONT_DESK | CLINICAL),
    "patients:chart": Rule(read=CHART_READERS),
    "patients:edit": Rule(read=FRONT_DESK | CLINICAL, write=FRONT_DESK | CLINICAL),
    "patients:photo": Rule(read=CHART_READERS),
    "intake:inquiries": Rule(read=FRONT_DESK | {Role.AUDITOR}),
    "intake:inquiry": Rule(read=FRONT_DESK | {Role.AUDITOR}, write=FRONT_DESK),
    "intake:convert": Rule(read=FRONT_DESK, write=FRONT_DESK),
    "intake:day": Rule(read=CLINICAL | FRONT_DESK | {Role.AUDITOR, Role.LAB_TECHNICIAN}),
    "intake:appointment_new": Rule(read=FRONT_DESK | CLINICAL, write=FRONT_DESK | CLINICAL),
    "intake:appointment_status": Rule(read=NOBODY, write=FRONT_DESK | CLINICAL),
    "assessment:new": Rule(read=frozenset({Role.PHYSICIAN}), write=frozenset({Role.PHYSICIAN})),
    "assessment:detail": Rule(read=CLINICAL | {Role.AUDITOR, Role.COORDINATOR}),
    "assessment:override": Rule(
        read=frozenset({Role.PHYSICIAN}), write=frozenset({Role.PHYSICIAN})
    ),
    "audit:patient": Rule(read=frozenset({Role.AUDITOR, Role.ADMINISTRATOR})),
    # Treatment pathway: plan → consent → harvest → lab → session → follow-up.
    "treatment:plan_new": Rule(read=PHYSICIAN, write=PHYSICIAN),
    "treatment:plan": Rule(read=TREATMENT_READERS | {Role.COORDINATOR}),
    "treatment:consent_sign": Rule(read=CLINICAL, write=CLINICAL),
    "treatment:consent_pdf": Rule(read=CLINICAL | {Role.AUDITOR}),
    "treatment:consent_withdraw": Rule(read=CLINICAL, write=CLINICAL),
    "treatment:harvest_new": Rule(read=PHYSICIAN, write=PHYSICIAN),
    "treatment:lab_bench": Rule(read=LAB | PHYSICIAN | {Role.AUDITOR}),
    "treatment:expire_sweep": Rule(read=NOBODY, write=LAB),
    "treatment:product": Rule(read=TREATMENT_READERS),
    "treatment:product_results": Rule(read=NOBODY, write=LAB),
    "treatment:product_release": Rule(read=NOBODY, write=LAB),
    "treatment:product_store": Rule(read=NOBODY, write=LAB),
    "treatment:product_thaw": Rule(read=NOBODY, write=LAB),
    "treatment:product_discard": Rule(read=NOBODY, write=LAB | PHYSICIAN),
    "treatment:product_split": Rule(read=NOBODY, write=LAB),
    "treatment:label_pdf": Rule(read=LAB),
    "treatment:label_svg": Rule(read=TREATMENT_READERS),
    "treatment:session_new": Rule(read=PHYSICIAN, write=PHYSICIAN),
    "treatment:session": Rule(read=TREATMENT_READERS),
    "treatment:aftercare_pdf": Rule(read=CLINICAL),
    "treatment:adverse_event_new": Rule(read=CLINICAL, write=CLINICAL),
    "treatment:follow_ups": Rule(read=CLINICAL | FRONT_DESK),
    # Imaging and outcomes: clinicians take and correct images; auditors read.
    "imaging:visit_new": Rule(read=CLINICAL, write=CLINICAL),
    "imaging:target_site_new": Rule(read=CLINICAL, write=CLINICAL),
    "imaging:visit": Rule(read=CLINICAL | {Role.AUDITOR}, write=CLINICAL),
    "imaging:trichoscopy": Rule(read=CLINICAL | {Role.AUDITOR}, write=CLINICAL),
    "imaging:trichoscopy_file": Rule(read=CLINICAL | {Role.AUDITOR}),
    "imaging:photo_file": Rule(read=CLINICAL | {Role.AUDITOR}),
    "imaging:progress": Rule(read=CLINICAL | {Role.AUDITOR}),
    "imaging:progress_plot": Rule(read=CLINICAL | {Role.AUDITOR}),
}
