from django.urls import path

from . import api

app_name = "recommender"

urlpatterns = [
    path("recommendations", api.RecommendationsView.as_view(), name="recommendations"),
    path("moods", api.MoodsView.as_view(), name="moods"),
    path("genres", api.GenresView.as_view(), name="genres"),
    path("users/<int:telegram_id>/profile", api.ProfileView.as_view(), name="profile"),
    path("users/<int:telegram_id>/ratings", api.RatingsView.as_view(), name="ratings"),
]
