"""Recommendation requests (the log), trained model versions and experiments."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class ModelVersion(models.Model):
    """A trained combination of the recommender's signals, with its offline metrics."""

    name = models.CharField(verbose_name=_("name"), max_length=60, unique=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    artifact = models.BinaryField(verbose_name=_("artifact"), help_text=_("The fitted estimator, serialised."))
    features = models.JSONField(verbose_name=_("features"), default=list)
    training_size = models.PositiveIntegerField(verbose_name=_("training size"), default=0)
    metrics = models.JSONField(verbose_name=_("metrics"), default=dict, blank=True)
    is_active = models.BooleanField(verbose_name=_("is active"), default=False, help_text=_("The promoted version serves the default strategy."))
    notes = models.TextField(verbose_name=_("notes"), blank=True)

    class Meta:
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=models.Q(is_active=True), name="one_active_model_version")
        ]

    def __str__(self):
        return self.name


class Experiment(models.Model):
    """Splits users into sticky variants, each served by a strategy or model version."""

    code = models.SlugField(verbose_name=_("code"), max_length=40, unique=True)
    name = models.CharField(verbose_name=_("name"), max_length=200)
    is_active = models.BooleanField(verbose_name=_("is active"), default=False)
    started_at = models.DateTimeField(verbose_name=_("started at"), null=True, blank=True)
    ended_at = models.DateTimeField(verbose_name=_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("experiment")
        verbose_name_plural = _("experiments")
        ordering = ["-started_at", "code"]

    def __str__(self):
        return self.name


class ExperimentVariant(models.Model):
    experiment = models.ForeignKey(Experiment, verbose_name=_("experiment"), on_delete=models.CASCADE, related_name="variants")
    code = models.SlugField(verbose_name=_("code"), max_length=40)
    weight = models.PositiveSmallIntegerField(verbose_name=_("weight"), default=1, help_text=_("Relative share of users."))
    strategy = models.CharField(verbose_name=_("strategy"), max_length=30, default="model", help_text=_("'model' or 'baseline'."))
    model_version = models.ForeignKey(ModelVersion, verbose_name=_("model version"), null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        verbose_name = _("experiment variant")
        verbose_name_plural = _("experiment variants")
        ordering = ["experiment", "code"]
        constraints = [models.UniqueConstraint(fields=["experiment", "code"], name="variant_unique_code")]

    def __str__(self):
        return f"{self.experiment.code}/{self.code}"


class Recommendation(models.Model):
    """One recommendation request and what it showed. Logged for KPI and training only."""

    id = models.UUIDField(verbose_name=_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    profile = models.ForeignKey("users.Profile", verbose_name=_("profile"), null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="recommendations")
    mood = models.ForeignKey("catalog.Mood", verbose_name=_("mood"), on_delete=models.PROTECT, related_name="+")
    minutes = models.PositiveIntegerField(verbose_name=_("minutes"))
    kinds = models.JSONField(verbose_name=_("kinds"), default=list)
    strategy = models.CharField(verbose_name=_("strategy"), max_length=30)
    model_version = models.ForeignKey(ModelVersion, verbose_name=_("model version"), null=True, blank=True, on_delete=models.SET_NULL)
    experiment = models.ForeignKey(Experiment, verbose_name=_("experiment"), null=True, blank=True, on_delete=models.SET_NULL)
    variant = models.CharField(verbose_name=_("variant"), max_length=40, blank=True)
    channel = models.CharField(verbose_name=_("channel"), max_length=12, default="api", help_text=_("api, bot, …"))
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["variant", "created_at"], name="rec_variant_created_idx")]

    def __str__(self):
        return f"{self.id} ({self.mood_id}, {self.minutes} min)"


class RecommendationItem(models.Model):
    recommendation = models.ForeignKey(Recommendation, verbose_name=_("recommendation"), on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey("catalog.ContentItem", verbose_name=_("item"), on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(verbose_name=_("kind"), max_length=8)
    rank = models.PositiveSmallIntegerField(verbose_name=_("rank"))
    score = models.FloatField(verbose_name=_("score"))
    in_playlist = models.BooleanField(verbose_name=_("in playlist"), default=False)

    class Meta:
        verbose_name = _("recommendation item")
        verbose_name_plural = _("recommendation items")
        ordering = ["recommendation", "kind", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["recommendation", "item"], name="recitem_unique_item"),
        ]
