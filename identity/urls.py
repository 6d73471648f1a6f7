"""URL map (SPEC §2). Tenant and policy segments are matched by the views, case-insensitively."""

from django.contrib import admin
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
]
