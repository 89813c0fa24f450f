from django.shortcuts import render

from anagen.clinic.patients.selectors import patient_get

from .selectors import patient_audit_trail


def patient_audit(request, pk):
    patient = patient_get(user=request.user, pk=pk)
    return render(
        request,
        "audit/patient.html",
        {"patient": patient, "entries": patient_audit_trail(patient=patient)},
    )
