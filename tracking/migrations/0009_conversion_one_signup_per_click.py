from django.db import migrations, models
from django.utils import timezone

SIGNUPS = ["registration", "subscription"]


def reject_repeated_signups(apps, schema_editor):
    """Before the rule holds, a click may already have two registrations (or subscriptions) under two event ids:
    the earliest stays, every later one is rejected with the reason, and its day's KPI is rebuilt (updated_at)."""
    Conversion = apps.get_model("tracking", "Conversion")
    kept: set[tuple[int, str]] = set()
    repeated = []
    rows = (Conversion.objects.filter(event__in=SIGNUPS).exclude(status="rejected")
            .order_by("click_id", "event", "created_at", "id").values_list("id", "click_id", "event"))
    for pk, click_id, event in rows.iterator():
        if (click_id, event) in kept:
            repeated.append(pk)
        else:
            kept.add((click_id, event))
    if repeated:
        Conversion.objects.filter(pk__in=repeated).update(
            status="rejected", updated_at=timezone.now(),
            status_reason="Repeated: this click already had this event; a click brings one registration and one "
                          "subscription.")


class Migration(migrations.Migration):

    dependencies = [
        ('tracking', '0008_kpi_payouts_wider'),
    ]

    operations = [
        migrations.RunPython(reject_repeated_signups, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='conversion',
            constraint=models.UniqueConstraint(
                condition=models.Q(('event__in', ['registration', 'subscription']),
                                   models.Q(('status', 'rejected'), _negated=True)),
                fields=('click', 'event'), name='conversion_one_signup_per_click'),
        ),
    ]
