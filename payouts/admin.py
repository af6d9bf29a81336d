"""Django admin for payouts: browse, search and edit through the services; statuses read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from payouts import services
from payouts.errors import PayoutError, PayoutInvalid, PayoutNotEditable
from payouts.models import Payout, PayoutEvent
from payouts.states import EDITABLE_STATUSES
from payouts.validation import EDITABLE_FIELDS, payout_clean


class PayoutAdminForm(forms.ModelForm[Payout]):
    """Checks edits with the domain's rules, so the admin says what the APIs say."""

    class Meta:
        model = Payout
        fields = EDITABLE_FIELDS

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk and self.instance.status not in EDITABLE_STATUSES:
            raise forms.ValidationError(PayoutNotEditable.message)
        try:
            payout_clean({f: cleaned[f] for f in EDITABLE_FIELDS if f in cleaned}, partial=True)
        except PayoutInvalid as invalid:
            for error in invalid.errors:
                self.add_error(error.field, error.message)
        return cleaned


class PayoutEventInline(admin.TabularInline[PayoutEvent, Payout]):
    model = PayoutEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "from_status", "to_status", "attempt", "reason")
    readonly_fields = fields
    ordering = ("created_at", "id")

    def has_add_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False


@admin.register(Payout)
class PayoutAdmin(admin.ModelAdmin[Payout]):
    form = PayoutAdminForm
    list_display = ("id", "amount", "currency", "status", "attempts", "created_at", "updated_at")
    list_filter = ("status", "currency")
    search_fields = ("=id", "recipient_details__account_number")
    readonly_fields = ("id", "status", "failure_reason", "attempts", "created_at", "updated_at")
    ordering = ("-created_at", "-id")
    inlines = (PayoutEventInline,)
    show_full_result_count = False
    actions = None

    def save_model(self, request: HttpRequest, obj: Payout, form: Any, change: bool) -> None:
        data = {field: form.cleaned_data[field] for field in EDITABLE_FIELDS}
        saved = services.payout_update(obj.pk, data) if change else services.payout_create(data)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Events are written by the services only; the inline is read-only.
        return None

    def delete_model(self, request: HttpRequest, obj: Payout) -> None:
        try:
            services.payout_delete(obj.pk)
        except PayoutError as error:
            self.message_user(request, error.message, messages.ERROR)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Payout]) -> None:
        for payout in queryset:
            self.delete_model(request, payout)


@admin.register(PayoutEvent)
class PayoutEventAdmin(admin.ModelAdmin[PayoutEvent]):
    list_display = ("payout", "from_status", "to_status", "attempt", "created_at")
    list_filter = ("to_status",)
    readonly_fields = ("payout", "from_status", "to_status", "attempt", "reason", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PayoutEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PayoutEvent | None = None) -> bool:
        return False
