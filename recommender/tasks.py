from celery import shared_task

from .services import model_version_train


@shared_task(name="recommender.train_recommender")
def train_recommender(seed: int = 0) -> dict:
    """Retrain the preference model from stored ratings (beat runs it daily); promotes only a better model."""
    outcome = model_version_train(seed=seed)
    return {"version": outcome.version.name if outcome.version else None, "promoted": outcome.promoted,
            "message": outcome.message}
