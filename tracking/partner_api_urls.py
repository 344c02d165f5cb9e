from django.urls import path

from . import api

app_name = "tracking_partner_api"

urlpatterns = [
    path("conversions", api.ConversionCreateView.as_view(), name="conversions"),
    path("conversions/<int:pk>", api.ConversionStatusView.as_view(), name="conversion-status"),
    path("stats", api.PartnerStatsView.as_view(), name="stats"),
]
