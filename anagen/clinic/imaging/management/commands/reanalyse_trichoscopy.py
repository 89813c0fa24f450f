from django.core.management.base import BaseCommand
from tqdm import tqdm

from anagen import trichometry
from anagen.clinic.imaging.models import TrichoscopyImage
from anagen.clinic.imaging.services import reanalyse_outdated


class Command(BaseCommand):
    help = "Re-analyse trichoscopy images made with an older algorithm version (or --all)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="re-analyse every image")

    def handle(self, *args, **options):
        todo = TrichoscopyImage.objects.all()
        if not options["all"]:
            todo = todo.exclude(algorithm_version=trichometry.ALGORITHM_VERSION, status="analysed")
        with tqdm(total=todo.count(), desc="re-analysing", unit="image") as bar:
            counts = reanalyse_outdated(every=options["all"], progress=bar.update)
        self.stdout.write(
            f"{counts.get('analysed', 0)} analysed with {trichometry.ALGORITHM_VERSION}, "
            f"{counts.get('failed', 0)} failed (see each image's error)."
        )
