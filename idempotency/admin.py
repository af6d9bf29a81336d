"""Operators look up a client's keys (why was this request replayed or refused?); nobody edits
them: a key is written only by the request that claims it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from idempotency.models import IdempotencyKey


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin[IdempotencyKey]):
    list_display = ["key", "client", "method", "path", "response_status", "created_at"]
    list_filter = ["client"]
    search_fields = ["key"]
    list_select_related = ["client"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in IdempotencyKey._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # A key deleted while its client still retries would let the retry create a second payout:
    # only the purge, past the TTL, forgets one.
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
