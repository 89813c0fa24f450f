from django.shortcuts import render
from django.utils import timezone

from anagen.clinic.intake.selectors import appointments_on, inquiries_visible_to
from anagen.clinic.patients.selectors import patient_get

from .audit import patient_audit_trail


def home(request):
    today = timezone.localdate()
    appointments = appointments_on(user=request.user, day=today)
    return render(
        request,
        "core/home.html",
        {
            "today": today,
            "appointments": appointments,
            "new_inquiries": inquiries_visible_to(user=request.user, status="new").count(),
        },
    )


def patient_audit(request, pk):
    patient = patient_get(user=request.user, pk=pk)
    return render(
        request,
        "audit/patient.html",
        {"patient": patient, "entries": patient_audit_trail(patient=patient)},
    )
