from django.urls import path

app_name = "recommender"

urlpatterns: list = [
    # Filled by the recommender API: recommendations, moods, genres, profiles, ratings.
]
