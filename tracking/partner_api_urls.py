from django.urls import path

app_name = "tracking_partner_api"

urlpatterns: list = [
    # Partner conversions and statistics API.
]
