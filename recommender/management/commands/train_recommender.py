import json

from django.core.management.base import BaseCommand

from recommender.services import model_version_train


class Command(BaseCommand):
    help = ("Fit the recommender's preference model on stored likes / dislikes, save a ModelVersion and "
            "promote it only if it beats the serving strategy on held-out users.")

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--name", help="Name of the new ModelVersion (default: pairwise-lr-<time>-<seed>).")

    def handle(self, *args, seed, name, **options):
        outcome = model_version_train(seed=seed, name=name)
        self.stdout.write(outcome.message)
        if outcome.metrics:
            self.stdout.write(json.dumps(outcome.metrics, indent=2))
