"""Input and output shapes of the tracking APIs (validation rules live in services, not here)."""

from django.utils import timezone
from rest_framework import serializers

from .models import Conversion


def conversion_data(conversion: Conversion) -> dict:
    """A conversion as partners see it (REST and postback answers). Built by hand: the postback
    path answers hundreds of requests a second and a ModelSerializer costs milliseconds each."""
    return {
        "id": conversion.pk,
        "click_id": conversion.click.click_id,
        "event": conversion.event,
        "event_id": conversion.event_id,
        "amount": None if conversion.amount is None else f"{conversion.amount:.2f}",
        "currency": conversion.currency,
        "payout": f"{conversion.payout:.2f}",
        "payout_currency": conversion.payout_currency,
        "status": conversion.status,
        "status_reason": conversion.status_reason,
        "suspicious": conversion.suspicious,
        "occurred_at": timezone.localtime(conversion.occurred_at).isoformat(),
        "created_at": timezone.localtime(conversion.created_at).isoformat(),
    }


class ConversionSerializer(serializers.ModelSerializer):
    """Documents the shape `conversion_data` returns (the OpenAPI schema); a test keeps the two equal."""

    click_id = serializers.CharField(source="click.click_id")

    class Meta:
        model = Conversion
        fields = ["id", "click_id", "event", "event_id", "amount", "currency", "payout", "payout_currency", "status",
                  "status_reason", "suspicious", "occurred_at", "created_at"]
        read_only_fields = fields


class ConversionReportSerializer(serializers.Serializer):
    """Documents the POST body; `conversion_report_parse` applies the rules (the postback shares them)."""

    click_id = serializers.CharField(help_text="The click id MoodStream added to the offer URL.")
    event = serializers.ChoiceField(choices=Conversion.Event.choices)
    event_id = serializers.CharField(max_length=100, help_text="Your own id for this event; replays are idempotent.")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, required=False,
                                      help_text="Required for purchases.")
    currency = serializers.CharField(max_length=3, required=False, help_text="ISO 4217; default: your payout currency.")
    occurred_at = serializers.DateTimeField(required=False, help_text="ISO 8601 or Unix seconds; default: now.")


class ConversionStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[Conversion.Status.APPROVED, Conversion.Status.REJECTED])
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True,
                                   help_text="Required when rejecting.")


class RefusalSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    field = serializers.CharField(allow_null=True)
