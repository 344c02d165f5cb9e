from django.urls import path

from . import api

app_name = "catalog_partner_api"

urlpatterns: list = [
    path("feeds", api.FeedListCreateView.as_view(), name="feeds"),
    path("feeds/<uuid:pk>", api.FeedImportDetailView.as_view(), name="feed-detail"),
]
