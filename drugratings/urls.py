from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from drugratings.api.main import api


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


admin.site.site_header = "Drug Ratings administration"
admin.site.site_title = "Drug Ratings admin"

# The API answers errors in its JSON shape; pages use the site's 400/403/404/500 templates.
handler400 = "drugratings.web.views.errors.bad_request"
handler403 = "drugratings.web.views.errors.permission_denied"
handler404 = "drugratings.web.views.errors.page_not_found"
handler500 = "drugratings.web.views.errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("healthz", healthz),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("drugratings.web.urls")),
]
