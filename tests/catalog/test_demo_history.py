"""load_demo --history: a labelled history made through the real services, with two truly different variants."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.demo_history import EXPERIMENT_CODE, demo_history_load
from recommender.models import Experiment, Recommendation
from tracking.models import Click, Conversion
from tracking.selectors import kpi_report


@pytest.fixture(autouse=True)
def fresh_recommender_caches():
    """The demo catalogue lives only in this test's database: no index built on it may outlive the test."""
    from recommender.collab import collab_index_clear
    from recommender.index import catalogue_index_clear
    from recommender.selectors import serving_config_clear

    yield
    catalogue_index_clear()
    collab_index_clear()
    serving_config_clear()


@pytest.fixture
def demo_catalogue(db):
    call_command("load_demo", verbosity=0)


def test_history_through_the_services_and_a_real_difference(demo_catalogue):
    summary = demo_history_load(days=20, users=120, seed=0)
    assert summary.created and summary.requests > 200 and summary.clicks > 50
    experiment = Experiment.objects.get(code=EXPERIMENT_CODE)
    assert "simulated" in experiment.name.lower()
    # Every click has its logged recommendation and the same variant (click_record copied it).
    assert not Click.objects.filter(recommendation__isnull=True).exists()
    assert Recommendation.objects.filter(experiment=experiment).count() == summary.requests
    assert Conversion.objects.count() == summary.conversions
    assert Recommendation.objects.order_by("created_at").first().created_at < timezone.now() - timedelta(days=15)

    today = timezone.localdate()
    report = kpi_report(date_from=today - timedelta(days=29), date_to=today)
    comparison = report.compare(*report.default_pair())
    by_variant = {comparison.a.key.variant: comparison.a, comparison.b.key.variant: comparison.b}
    assert set(by_variant) == {"control", "treatment"} and comparison.actions is not None
    # "treatment" people click more often per request (CLICK_CHANCE); a small sample need not be significant.
    rate = {code: v.clicks / v.requests for code, v in by_variant.items()}
    assert rate["treatment"] > rate["control"]


def test_a_second_run_changes_nothing(demo_catalogue):
    demo_history_load(days=3, users=20)
    before = Click.objects.count(), Recommendation.objects.count()
    assert not demo_history_load(days=3, users=20).created
    assert (Click.objects.count(), Recommendation.objects.count()) == before
