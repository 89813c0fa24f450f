from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from anagen import trichometry
from anagen.clinic.imaging.models import TrichoscopyImage
from anagen.clinic.imaging.services import reanalyse_outdated


class Command(BaseCommand):
    help = (
        "Re-analyse trichoscopy images made with an older algorithm version (or --all). "
        "Failures are recorded on each image and the batch goes on; exits non-zero if any failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="re-analyse every image")

    def handle(self, *args, **options):
        todo = TrichoscopyImage.objects.all()
        if not options["all"]:
            todo = todo.exclude(algorithm_version=trichometry.ALGORITHM_VERSION, status="analysed")
        with tqdm(total=todo.count(), desc="re-analysing", unit="image") as bar:
            report = reanalyse_outdated(every=options["all"], progress=bar.update)
        failed = report.failed_ids
        self.stdout.write(
            f"{report.analysed} analysed with {trichometry.ALGORITHM_VERSION}, "
            f"{len(failed)} failed."
        )
        if failed:
            # CommandError: manage.py exits with status 1, so a scheduled run is noticed.
            raise CommandError(
                f"{len(failed)} image(s) failed: ids {', '.join(map(str, failed))} "
                "(each image's page says why)."
            )
