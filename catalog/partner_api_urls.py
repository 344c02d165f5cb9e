from django.urls import path

app_name = "catalog_partner_api"

urlpatterns: list = [
    # Partner feed API: POST feeds, GET feeds/<id>.
]
