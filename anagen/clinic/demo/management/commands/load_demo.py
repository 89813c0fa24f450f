from django.core.management.base import BaseCommand

from anagen.clinic.demo.loader import DEMO_PASSWORD, demo_logins, load_demo


class Command(BaseCommand):
    help = "Load the synthetic demo clinic (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=200)

    def handle(self, *args, **options):
        summary = load_demo(n_patients=options["patients"])
        if summary.created:
            self.stdout.write(
                f"Demo clinic loaded: {summary.patients} patients, {summary.inquiries} inquiries, "
                f"{summary.appointments} appointments, {summary.assessments} assessments, "
                f"{summary.sessions} treatment sessions, {summary.images} trichoscopy images."
            )
            if summary.imaging is not None and summary.imaging.patients:
                i = summary.imaging
                self.stdout.write(
                    f"Registry: {i.patients} imaged patients, {i.reimages} phototrichogram "
                    f"re-images, {i.photos} clinical photos, {i.reports} visit reports, "
                    f"{i.missed} missed follow-up visits."
                )
        else:
            self.stdout.write("Demo clinic already loaded; nothing changed.")
        self.stdout.write("\nDemo logins (synthetic data only), password: " + DEMO_PASSWORD)
        for email, role, sites in demo_logins():
            self.stdout.write(f"  {email:<38} {role:<15} {sites}")
        self.stdout.write("\nOpen http://127.0.0.1:8000/ (public request page: /request/)\n")
