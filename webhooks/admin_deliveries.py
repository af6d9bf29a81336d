"""The admin's view of webhook deliveries: read-only, with their attempts, and a manual retry
through the same service as the REST endpoint. Registered by WebhooksConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from payouts.callers import Caller
from payouts.errors import PayoutError
from webhooks.delivery import delivery_retry
from webhooks.models import WebhookAttempt, WebhookDelivery

# One retry per selected delivery, each its own message: a page's worth at most.
RETRY_MAX_DELIVERIES = 100
MSG_RETRY_TOO_MANY = "Select at most {limit} deliveries to retry at once."
MSG_RETRIED = "Delivery {delivery_id}: one more attempt is on its way."


class WebhookAttemptInline(admin.TabularInline[WebhookAttempt, WebhookDelivery]):
    model = WebhookAttempt
    fields = (
        "number",
        "manual",
        "attempted_at",
        "duration_ms",
        "response_status",
        "succeeded",
        "response_body",
        "error",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin[WebhookDelivery]):
    list_display = ("id", "endpoint", "event_type", "status", "attempts", "next_attempt_at")
    list_filter = ("status",)
    list_select_related = ("endpoint", "event")
    search_fields = ("=id", "=endpoint__id")
    fields = (
        "id",
        "endpoint",
        "event",
        "status",
        "attempts",
        "manual",
        "next_attempt_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    inlines = (WebhookAttemptInline,)
    actions = ("retry",)

    @admin.display(description="Event type")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A delivery is the record of what was sent: shown, never edited.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.change_webhookdelivery")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Send the selected deliveries again", permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        """One manual attempt of each selected delivery, as its client's retry would make."""
        selected = list(queryset.values_list("pk", "endpoint_id")[: RETRY_MAX_DELIVERIES + 1])
        if len(selected) > RETRY_MAX_DELIVERIES:
            message = MSG_RETRY_TOO_MANY.format(limit=RETRY_MAX_DELIVERIES)
            self.message_user(request, message, messages.ERROR)
            return
        caller = Caller.for_staff(request.user.get_username())
        for delivery_id, endpoint_id in selected:
            try:
                delivery_retry(caller, endpoint_id, delivery_id)
            except PayoutError as error:
                self.message_user(
                    request, f"Delivery {delivery_id}: {error.message}", messages.WARNING
                )
            else:
                self.message_user(
                    request, MSG_RETRIED.format(delivery_id=delivery_id), messages.SUCCESS
                )
