"""Django admin for payouts: a console that writes through the services like every other surface."""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from payouts import services
from payouts.callers import Caller
from payouts.errors import PayoutError, PayoutInvalid
from payouts.forms import AmountField, MetadataField, RecipientDetailsField, ReferenceField
from payouts.models import FailureCode, Payout, PayoutEvent
from payouts.selectors import payout_list_stalled
from payouts.states import EDITABLE_STATUSES
from payouts.validation import CREATE_FIELDS


class PayoutAdminForm(forms.ModelForm[Payout]):
    """An add or an edit, written by the services while the form validates.

    Validating and writing in one service call means every refusal (bad input, or a payout a
    worker picked up a moment ago) comes back on the form, never as a 500 after validation
    passed. The admin wraps the whole request in one transaction, so nothing is half-written.
    """

    # The staff user saving the form, recorded as the change's actor; set by PayoutAdmin.
    staff_username = ""

    class Meta:
        model = Payout
        # The client and the reference are asked for when a payout is added; afterwards they
        # are among PayoutAdmin's read-only fields.
        fields = ("client", *CREATE_FIELDS)
        field_classes = {
            "amount": AmountField,
            "recipient_details": RecipientDetailsField,
            "reference": ReferenceField,
            "metadata": MetadataField,
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        data = {field: cleaned[field] for field in CREATE_FIELDS if field in cleaned}
        if data.get("reference") is None:
            # Left blank on the add page: no reference, as when a client omits it.
            data.pop("reference", None)
        try:
            if self.instance._state.adding:
                # A staff user adds a payout on behalf of the client chosen on the form.
                caller = Caller.for_staff(self.staff_username, client=cleaned["client"])
                self.instance = services.payout_create(caller, data)
            else:
                caller = Caller.for_staff(self.staff_username)
                self.instance = services.payout_update(caller, self.instance.pk, data)
        except PayoutInvalid as invalid:
            for error in invalid.errors:
                self.add_error(
                    error.field, forms.ValidationError(error.message, code=error.code.value)
                )
        except PayoutError as error:
            refusal = forms.ValidationError(error.message, code=error.code.value)
            if error.field is None:
                raise refusal from error
            self.add_error(error.field, refusal)
        return cleaned


MSG_REQUEUE_TOO_MANY = "Select at most {limit} payouts to enqueue again; nothing was done."


def _editable(payout: Payout | None) -> bool:
    return payout is None or (payout.deleted_at is None and payout.status in EDITABLE_STATUSES)


def _actor(event: PayoutEvent) -> str:
    kind = event.get_actor_kind_display()
    return f"{kind} {event.actor}" if event.actor else kind


def _event_details(event: PayoutEvent) -> str:
    if event.changes:
        return json.dumps(event.changes, ensure_ascii=False)
    return event.reason


class OutcomeUnknownFilter(admin.SimpleListFilter):
    """The payouts an operator must settle with the provider by hand: no attempt got an answer,
    and the provider may have paid."""

    title = "provider outcome"
    parameter_name = "outcome"
    UNKNOWN = "unknown"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(self.UNKNOWN, "Unknown: check with the provider")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Payout]) -> QuerySet[Payout]:
        if self.value() == self.UNKNOWN:
            return queryset.filter(failure_code=FailureCode.PROVIDER_UNKNOWN_OUTCOME)
        return queryset


class StalledFilter(admin.SimpleListFilter):
    """The payouts the recovery sweep would look at now, and the re-enqueue action may take."""

    title = "recovery"
    parameter_name = "stalled"
    YES = "yes"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(self.YES, "Stalled: untouched past the sweep's thresholds")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Payout]) -> QuerySet[Payout]:
        if self.value() == self.YES:
            return queryset.filter(pk__in=payout_list_stalled().values("pk"))
        return queryset


class FailureCodeFilter(admin.SimpleListFilter):
    """The service's own failure codes, and every decline with the provider's code, from a fixed
    list: listing the distinct codes stored would read the whole table on every page."""

    title = "failure code"
    parameter_name = "failure_code"
    DECLINED = "declined"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (self.DECLINED, "Declined with the provider's own code"),
            *((code.value, code.value) for code in FailureCode),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Payout]) -> QuerySet[Payout]:
        value = self.value()
        if value == self.DECLINED:
            return queryset.exclude(Q(failure_code="") | Q(failure_code__in=FailureCode.values))
        if value in FailureCode.values:
            return queryset.filter(failure_code=value)
        return queryset


@admin.register(Payout)
class PayoutAdmin(admin.ModelAdmin[Payout]):
    form = PayoutAdminForm
    list_display = (
        "id",
        "client",
        "reference",
        "amount",
        "currency",
        "status",
        "failure_code",
        "attempts",
        "created_at",
        "deleted_at",
    )
    list_filter = (
        "status",
        OutcomeUnknownFilter,
        StalledFilter,
        FailureCodeFilter,
        "currency",
        "client",
        ("created_at", admin.DateFieldListFilter),
        ("deleted_at", admin.EmptyFieldListFilter),
    )
    list_select_related = ("client",)
    search_fields = (
        "=id",
        "reference",
        "=provider_reference",
        "recipient_details__account_number",
        "=client__name",
    )
    readonly_fields = (
        "id",
        "client",
        "reference",
        "status",
        "failure_code",
        "failure_reason",
        "provider_reference",
        "attempts",
        "max_attempts",
        "created_at",
        "updated_at",
        "deleted_at",
        "history",
    )
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    # Counts beside each filter choice would each read the whole table.
    show_facets = admin.ShowFacets.NEVER
    actions = ("requeue",)

    def get_form(
        self, request: HttpRequest, obj: Payout | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = cast(type[PayoutAdminForm], super().get_form(request, obj, change, **kwargs))
        form.staff_username = request.user.get_username()
        return form

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        # Django's bulk delete writes past the services; a payout is deleted one at a time.
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Enqueue stuck payouts again", permissions=["change"])
    def requeue(self, request: HttpRequest, queryset: QuerySet[Payout]) -> None:
        """Take back the selected payouts the recovery sweep would, each reported by name."""
        selected = list(queryset.values_list("pk", flat=True)[: services.REQUEUE_MAX_PAYOUTS + 1])
        if len(selected) > services.REQUEUE_MAX_PAYOUTS:
            limit = services.REQUEUE_MAX_PAYOUTS
            self.message_user(request, MSG_REQUEUE_TOO_MANY.format(limit=limit), messages.ERROR)
            return
        caller = Caller.for_staff(request.user.get_username())
        for payout_id, result in services.payouts_requeue(caller, selected).items():
            level = messages.SUCCESS if result.done else messages.WARNING
            self.message_user(request, f"Payout {payout_id}: {result.message}", level)

    def get_readonly_fields(self, request: HttpRequest, obj: Payout | None = None) -> Any:
        # Adding a payout asks for its input only; the rest is set by the services.
        return () if obj is None else self.readonly_fields

    def has_change_permission(self, request: HttpRequest, obj: Payout | None = None) -> bool:
        # A payout in flight, finished or deleted is shown read-only, without Save buttons.
        return super().has_change_permission(request, obj) and _editable(obj)

    def has_delete_permission(self, request: HttpRequest, obj: Payout | None = None) -> bool:
        return super().has_delete_permission(request, obj) and _editable(obj)

    def save_model(self, request: HttpRequest, obj: Payout, form: Any, change: bool) -> None:
        # PayoutAdminForm.clean() has written it through the services already.
        return None

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[str], dict[str, int], set[str], list[str]]:
        # Deleting keeps the payout as a tombstone with its history: nothing else goes with it.
        return (
            [str(obj) for obj in objs],
            {str(Payout._meta.verbose_name_plural): len(objs)},
            set(),
            [],
        )

    def delete_model(self, request: HttpRequest, obj: Payout) -> None:
        try:
            services.payout_delete(Caller.for_staff(request.user.get_username()), obj.pk)
        except PayoutError as error:
            # The payout left PENDING after the confirmation page was shown.
            raise PermissionDenied(error.message) from error

    @admin.display(description="History")
    def history(self, obj: Payout) -> SafeString:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    event.created_at,
                    event.get_kind_display(),
                    event.from_status or "∅",
                    event.to_status,
                    event.attempt,
                    _actor(event),
                    _event_details(event),
                )
                for event in obj.events.all()
            ),
        )
        return format_html(
            '<table id="payout-history"><tr><th>When</th><th>Event</th><th>Status</th>'
            "<th>Attempt</th>"
            "<th>By</th><th>Details</th></tr>{}</table>",
            rows,
        )


@admin.register(PayoutEvent)
class PayoutEventAdmin(admin.ModelAdmin[PayoutEvent]):
    list_display = (
        "payout",
        "kind",
        "from_status",
        "to_status",
        "attempt",
        "actor_kind",
        "actor",
        "created_at",
    )
    list_filter = ("kind", "to_status", "actor_kind")
    list_select_related = ("payout",)
    search_fields = ("=payout__id", "=actor")
    readonly_fields = (
        "payout",
        "kind",
        "from_status",
        "to_status",
        "attempt",
        "reason",
        "changes",
        "actor_kind",
        "actor",
        "created_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PayoutEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PayoutEvent | None = None) -> bool:
        return False
