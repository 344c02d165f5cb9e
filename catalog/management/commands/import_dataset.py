"""python manage.py import_dataset KIND PATH — load a public dataset (../shared/data) into the catalogue."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.datasets.readers import DATASETS
from catalog.datasets.services import dataset_import


class Command(BaseCommand):
    help = "Import a public dataset into the catalogue (idempotent). KIND is one of: " + ", ".join(
        f"{name} ({dataset.description})" for name, dataset in DATASETS.items())

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(DATASETS), help="Which dataset format PATH holds.")
        parser.add_argument("path", type=Path, help="The dataset's file or folder.")
        parser.add_argument("--extended", type=Path,
                            help="goodbooks-10k only: the goodbooks_extended_top3k folder (found next to it by default).")
        parser.add_argument("--limit", type=int, help="Read only the first N rows.")

    def handle(self, *args, kind, path, extended, limit, **options):
        if not path.exists():
            raise CommandError(f"No such file or folder: {path}")
        if extended is not None and not (extended / "book_details.csv").is_file():
            raise CommandError(f"{extended} has no book_details.csv (expected the goodbooks_extended_top3k folder).")
        bar = tqdm(unit=" rows", desc=kind, file=self.stderr._out, disable=options["verbosity"] == 0)
        try:
            report = dataset_import(name=kind, path=path, extended=extended, limit=limit, progress=bar.update)
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from None
        except (KeyError, ValueError) as exc:
            raise CommandError(f"{path} does not look like the {kind} dataset: {exc!r}") from None
        finally:
            bar.close()
        self.stdout.write(
            f"{kind}: {report.rows:,} rows read; items: {report.created:,} created, {report.updated:,} updated, "
            f"{report.unchanged:,} unchanged; {report.skipped:,} rows skipped"
        )
        for line in report.skipped_rows:
            self.stdout.write(f"  skipped {line}")
