from django.urls import path

from . import api, views

app_name = "tracking"

urlpatterns = [
    path("go/<str:token>", views.go, name="go"),
    path("postback/<slug:partner_code>", views.postback, name="postback"),
    path("api/v1/kpi", api.KpiView.as_view(), name="kpi-api"),
]
