"""Admin for model versions, experiments and the recommendation log (MoodStream staff only)."""

from django.contrib import admin

from moodstream.admin_scope import MoodStreamAdmin

from .models import Experiment, ExperimentVariant, ModelVersion, Recommendation, RecommendationItem


@admin.register(ModelVersion)
class ModelVersionAdmin(MoodStreamAdmin):
    list_display = ["name", "created_at", "is_active", "training_size"]
    list_filter = ["is_active"]
    readonly_fields = ["name", "created_at", "features", "training_size", "metrics", "notes"]
    exclude = ["artifact"]

    def has_add_permission(self, request):
        return False  # versions come from `train_recommender`, with their metrics


class ExperimentVariantInline(admin.TabularInline):
    model = ExperimentVariant
    extra = 2
    fields = ["code", "weight", "strategy", "model_version"]


@admin.register(Experiment)
class ExperimentAdmin(MoodStreamAdmin):
    list_display = ["code", "name", "is_active", "started_at", "ended_at"]
    list_filter = ["is_active"]
    inlines = [ExperimentVariantInline]


class RecommendationItemInline(admin.TabularInline):
    model = RecommendationItem
    extra = 0
    fields = ["kind", "rank", "item", "score", "in_playlist"]
    readonly_fields = fields
    can_delete = False


@admin.register(Recommendation)
class RecommendationAdmin(MoodStreamAdmin):
    list_display = ["id", "created_at", "profile", "mood", "minutes", "strategy", "model_version", "variant", "channel"]
    list_filter = ["strategy", "variant", "channel", "mood"]
    list_select_related = ["profile", "mood", "model_version"]
    readonly_fields = ["profile", "mood", "minutes", "kinds", "strategy", "model_version", "experiment", "variant",
                       "channel", "created_at"]
    inlines = [RecommendationItemInline]

    def has_add_permission(self, request):
        return False
