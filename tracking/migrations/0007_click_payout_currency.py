"""Each click keeps the currency of its payout, as conversions do (a partner's payout currency may change).

Clicks recorded before this migration get their partner's payout currency of now: the best record there
is of what they were billed in.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def partner_currency(apps, schema_editor):
    Click = apps.get_model("tracking", "Click")
    Partner = apps.get_model("catalog", "Partner")
    Click.objects.update(payout_currency=Subquery(
        Partner.objects.filter(pk=OuterRef("partner_id")).values("payout_currency")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0007_redundant_indexes_dropped"),
        ("tracking", "0006_test_click_and_conversion_marks_verbose_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="click",
            name="payout_currency",
            field=models.CharField(default="RUB", max_length=3, verbose_name="payout currency"),
        ),
        migrations.RunPython(partner_currency, migrations.RunPython.noop),
    ]
