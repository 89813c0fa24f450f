"""What the registry tells the apps above it (they listen; the registry imports none of them)."""

from django.dispatch import Signal

#: Sent by ``tasks.refresh_outcomes`` after a patient's outcome rows were rebuilt and
#: committed, with ``patient_id``: anything derived from the outcome table follows from here,
#: so it inherits the registry's "after commit, once per patient per transaction".
outcomes_refreshed = Signal()
