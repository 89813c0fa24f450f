"""Staff roles of a clinic. What each role may do is ``policy.PERMISSIONS``."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    PHYSICIAN = "physician", "Physician"
    NURSE = "nurse", "Nurse"
    LAB_TECHNICIAN = "lab_technician", "Lab technician"
    COORDINATOR = "coordinator", "Coordinator"
    AUDITOR = "auditor", "Auditor"
    ADMINISTRATOR = "administrator", "Administrator"
    # Reads the registry and its de-identified export only: never a chart, a name or an MRN.
    RESEARCHER = "researcher", "Researcher"
    # Scores blinded before/after photo pairs and sees nothing else (no charts, no names).
    REVIEWER = "reviewer", "Photo reviewer"
