from django.core.management.base import BaseCommand, CommandError

from recommender.evaluation import DatasetError, movielens_evaluate
from recommender.learning import K


class Command(BaseCommand):
    help = ("Replay MovieLens-layout ratings through the recommender and print ROC AUC, NDCG@10 and MAP@10 "
            "for the baseline, popularity, the hand-set weights and the learned model.")

    def add_arguments(self, parser):
        parser.add_argument("--movielens", required=True, metavar="DIR",
                            help="A folder with movies.csv and ratings.csv, e.g. ../shared/data/movielens_ml_latest_small")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, movielens, seed, **options):
        try:
            report = movielens_evaluate(movielens, seed=seed)
        except DatasetError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"MovieLens replay of {movielens} (seed {seed}): {report.items} items, "
                          f"{report.ratings} ratings, {report.test_users} test users, model trained on "
                          f"{report.training_users} users ({report.training_pairs} pairs)")
        self.stdout.write(f"{'strategy':<12}{'ROC AUC':>9}{f'NDCG@{K}':>10}{f'MAP@{K}':>9}{'users':>7}")
        for name, row in report.rows.items():
            self.stdout.write(f"{name:<12}{row.roc_auc:>9.4f}{row.ndcg:>10.4f}{row.map:>9.4f}{row.users:>7}")
        self.stdout.write(f"model = will-like + {report.watch_weight} × will-watch (mix learned on held-out training "
                          "users); weights: " + ", ".join(f"{k}={v}" for k, v in report.model_weights.items()))
