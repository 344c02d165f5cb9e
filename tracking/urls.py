from django.http import HttpResponseNotFound
from django.urls import path

app_name = "tracking"


def go(request, token):
    # Placeholder until the tracked redirect is built; the route name is the contract.
    return HttpResponseNotFound()


urlpatterns = [
    path("go/<str:token>", go, name="go"),
]
