from django.urls import path

app_name = "telegram_bot"

urlpatterns: list = [
    # POST webhook/
]
