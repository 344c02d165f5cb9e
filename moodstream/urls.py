from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from moodstream import health, language, views

admin.site.site_header = "MoodStream"
admin.site.site_title = "MoodStream"
admin.site.index_title = _("Administration")
# The left navigation repeats the index and takes 300 px: without it lists fit 1400 px.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", views.landing, name="landing"),
    path("language/", language.set_language, name="set-language"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file of its own: no inline script, so the
    # Content-Security-Policy (script-src 'self') needs no exception.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("api/v1/", include("recommender.urls")),
    path("api/v1/partner/", include("catalog.partner_api_urls")),
    path("api/v1/partner/", include("tracking.partner_api_urls")),
    path("", include("tracking.urls")),
    path("telegram/", include("telegram_bot.urls")),
]

# Under /api/ a crash answers JSON like every other API error (moodstream.api_errors); so does a missing
# page, turned into JSON by moodstream.api_input.ApiRequestMiddleware.
handler500 = "moodstream.api_errors.server_error"
