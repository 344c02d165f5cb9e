import time

from django.core.management.base import BaseCommand, CommandError

from recommender.evaluation import MAX_USERS, PICKER, POPULAR_PICKER, PROTOCOLS, DatasetError, movielens_evaluate
from recommender.learning import K


class Command(BaseCommand):
    help = ("Replay MovieLens-layout ratings through the recommender as the bot meets people (realistic), with "
            "genres only (cold) or with answers from each user's own history (oracle), and print ROC AUC, NDCG@10 "
            "and MAP@10 of the served strategies and of the item-kNN and EASE^R references.")

    def add_arguments(self, parser):
        parser.add_argument("--movielens", required=True, metavar="DIR",
                            help="A MovieLens folder: movies.csv and ratings.csv (or movies.dat and ratings.dat, or "
                                 "u.item and u.data), e.g. ../shared/data/movielens_ml_latest_small")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--protocol", choices=(*PROTOCOLS, "all"), default="all",
                            help="realistic: the bot's warm-up cards answered from real ratings; cold: genres only; "
                                 "oracle: answers drawn from the user's own ratings (the old replay); all (default)")
        parser.add_argument("--users", type=int, default=MAX_USERS, metavar="N",
                            help=f"a folder with more users is evaluated on a seeded sample of N of them, each with "
                                 f"every rating (default {MAX_USERS}; 0: everyone)")
        parser.add_argument("--warmup", choices=(PICKER, POPULAR_PICKER), default=PICKER,
                            help="picker: the bot's warm-up picker (default); popular: the 10 most popular items")

    def handle(self, *args, movielens, seed, protocol, warmup, users, **options):
        started = time.monotonic()
        protocols = PROTOCOLS if protocol == "all" else (protocol,)
        try:
            report = movielens_evaluate(movielens, seed=seed, protocols=protocols, warmup=warmup, max_users=users)
        except DatasetError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"MovieLens replay of {movielens} (seed {seed}, warm-up {warmup}): {report.items} items, "
                          f"{report.ratings} ratings, {report.test_users} test users, model trained on "
                          f"{report.training_users} users ({report.training_pairs} pairs)")
        if report.sampled_from:
            self.stdout.write(f"users: a seeded sample of {report.users:,} of the folder's {report.sampled_from:,} "
                              "(every rating of each; --users 0 for everyone)")
        for name, result in report.protocols.items():
            self.stdout.write(f"protocol: {name}")
            self.stdout.write(f"{'strategy':<12}{'ROC AUC':>9}{f'NDCG@{K}':>10}{f'MAP@{K}':>9}{'opinions':>10}"
                              f"{'users':>7}")
            for strategy, row in result.rows.items():
                self.stdout.write(f"{strategy:<12}{row.roc_auc:>9.4f}{row.ndcg:>10.4f}{row.map:>9.4f}"
                                  f"{result.opinions:>10.2f}{row.users:>7}")
            if result.popular_opinions is not None:
                ratio = result.opinions / result.popular_opinions if result.popular_opinions else float("inf")
                self.stdout.write(f"warm-up opinions per user: {warmup} {result.opinions:.2f}, the 10 most popular "
                                  f"items {result.popular_opinions:.2f} ({ratio:.3f}×)")
        weights = ", ".join(f"{k}={v}" for k, v in report.model_weights.items())
        if report.head_size:
            self.stdout.write(f"model = will-like, its {report.head_size} best will-watch items raised by "
                              f"k/(k+1) × {report.watch_weight} × will-watch above the {report.head_size}th's (k: the "
                              "person's likes and dislikes; λ and N learned on held-out training users); will-like "
                              f"weights: {weights}; head weights: "
                              + ", ".join(f"{k}={v}" for k, v in report.pick_weights.items()))
        else:
            self.stdout.write(f"model = will-like + {report.watch_weight} × will-watch (mix learned on held-out "
                              f"training users); weights: {weights}")
        if report.cold_weights:
            self.stdout.write(f"before the first like or dislike: the cold model (will-like + {report.cold_watch_weight} × "
                              "will-watch, both fitted on the training users replayed before any answer; kept because "
                              "it served held-out training users better there); weights: "
                              + ", ".join(f"{k}={v}" for k, v in report.cold_weights.items()))
        else:
            self.stdout.write("before the first like or dislike: the model above (a cold model did not serve "
                              "held-out training users better there)")
        self.stdout.write("references (settings chosen on held-out stored users): " + ", ".join(
            f"{name} " + " ".join(f"{k}={v}" for k, v in values.items()) for name, values in report.references.items()))
        self.stdout.write(f"({time.monotonic() - started:.0f} s)")
