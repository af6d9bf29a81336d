"""Admin for clients and their keys: list, create (the raw key is shown once) and revoke."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from clients.models import ApiKey, Client

# The library's own key model is not used here: its keys would authenticate nothing.
admin.site.unregister(APIKey)


class ApiKeyInline(admin.TabularInline[ApiKey, Client]):
    model = ApiKey
    fields = ("prefix", "name", "created", "last_used_at", "expiry_date", "revoked")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Keys are created on their own page, where the new key is shown once.
        return False


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin[Client]):
    list_display = ("name", "is_active", "active_keys", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name",)
    readonly_fields = ("created_at",)
    inlines = (ApiKeyInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Client]:
        return (
            super()
            .get_queryset(request)
            .annotate(active_key_count=Count("api_keys", filter=Q(api_keys__revoked=False)))
        )

    @admin.display(description="Active keys", ordering="active_key_count")
    def active_keys(self, obj: Client) -> int:
        return int(getattr(obj, "active_key_count", 0))

    def has_delete_permission(self, request: HttpRequest, obj: Client | None = None) -> bool:
        # A client owns payouts and their history: deactivate it instead.
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(APIKeyModelAdmin):
    list_display = (  # type: ignore[assignment]
        "prefix",
        "client",
        "name",
        "created",
        "last_used_at",
        "expiry_date",
        "_has_expired",
        "revoked",
    )
    list_filter = ("client", "revoked", "created")  # type: ignore[assignment]
    list_select_related = ("client",)
    search_fields = ("prefix", "name", "client__name")  # type: ignore[assignment]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fields = ("created", "last_used_at", *super().get_readonly_fields(request, obj))
        # A key's client is fixed once the key exists.
        return (*fields, "client") if obj is not None else fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Revoke instead: the row records that the key existed and when it was used.
        return False
