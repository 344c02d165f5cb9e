"""Recommendation requests (the log), trained model versions and experiments."""

import uuid

from django.db import models


class ModelVersion(models.Model):
    """A trained combination of the recommender's signals, with its offline metrics."""

    name = models.CharField(max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    artifact = models.BinaryField(help_text="The fitted estimator, serialised.")
    features = models.JSONField(default=list)
    training_size = models.PositiveIntegerField(default=0)
    metrics = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=False, help_text="The promoted version serves the default strategy.")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=models.Q(is_active=True), name="one_active_model_version")
        ]

    def __str__(self):
        return self.name


class Experiment(models.Model):
    """Splits users into sticky variants, each served by a strategy or model version."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=False)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "code"]

    def __str__(self):
        return self.name


class ExperimentVariant(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    code = models.SlugField(max_length=40)
    weight = models.PositiveSmallIntegerField(default=1, help_text="Relative share of users.")
    strategy = models.CharField(max_length=30, default="model", help_text="'model' or 'baseline'.")
    model_version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        ordering = ["experiment", "code"]
        constraints = [models.UniqueConstraint(fields=["experiment", "code"], name="variant_unique_code")]

    def __str__(self):
        return f"{self.experiment.code}/{self.code}"


class Recommendation(models.Model):
    """One recommendation request and what it showed. Logged for KPI and training only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    profile = models.ForeignKey("users.Profile", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="recommendations")
    mood = models.ForeignKey("catalog.Mood", on_delete=models.PROTECT, related_name="+")
    minutes = models.PositiveIntegerField()
    kinds = models.JSONField(default=list)
    strategy = models.CharField(max_length=30)
    model_version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.SET_NULL)
    experiment = models.ForeignKey(Experiment, null=True, blank=True, on_delete=models.SET_NULL)
    variant = models.CharField(max_length=40, blank=True)
    channel = models.CharField(max_length=12, default="api", help_text="api, bot, …")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["variant", "created_at"], name="rec_variant_created_idx")]

    def __str__(self):
        return f"{self.id} ({self.mood_id}, {self.minutes} min)"


class RecommendationItem(models.Model):
    recommendation = models.ForeignKey(Recommendation, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey("catalog.ContentItem", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8)
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()
    in_playlist = models.BooleanField(default=False)

    class Meta:
        ordering = ["recommendation", "kind", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["recommendation", "item"], name="recitem_unique_item"),
        ]
