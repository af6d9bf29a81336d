"""Django admin for webhook endpoints: written through the services like every other surface; a
new signing secret is shown once, in a message, and never otherwise."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import formats, timezone

from events.models import EventType
from payouts.callers import Caller
from payouts.errors import PayoutError, PayoutInvalid
from webhooks import services
from webhooks.models import WebhookEndpoint

MSG_SECRET_SHOWN_ONCE = (
    "The signing secret of {url} is {secret} — copy it now: it will not be shown again."
)


class WebhookEndpointAdminForm(forms.ModelForm[WebhookEndpoint]):
    """An add or an edit, written by the services while the form validates, so every refusal
    (a URL resolving to a private address, say) comes back on the form."""

    # The staff user saving the form; set by WebhookEndpointAdmin.
    staff_username = ""
    # The secret a create made, for the admin to show once.
    created_secret = ""

    event_types = forms.TypedMultipleChoiceField(
        choices=EventType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every type.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("client", *services.EDITABLE_FIELDS)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        adding = self.instance._state.adding
        # An edit sends only what changed, as a PATCH does: the form always holds the URL, and
        # checking it again (its DNS) would refuse disabling an endpoint whose domain lapsed.
        sent = services.EDITABLE_FIELDS if adding else self.changed_data
        data = {field: cleaned[field] for field in services.EDITABLE_FIELDS if field in sent}
        try:
            if adding:
                caller = Caller.for_staff(self.staff_username, client=cleaned["client"])
                self.instance, self.created_secret = services.endpoint_create(caller, data)
            else:
                caller = Caller.for_staff(self.staff_username)
                self.instance = services.endpoint_update(caller, self.instance.pk, data)
        except PayoutInvalid as invalid:
            for error in invalid.errors:
                field = error.field if error.field in self.fields else None
                self.add_error(field, forms.ValidationError(error.message, code=error.code.value))
        except PayoutError as error:
            raise forms.ValidationError(error.message, code=error.code.value) from error
        return cleaned


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin[WebhookEndpoint]):
    form = WebhookEndpointAdminForm
    list_display = ("url", "client", "enabled", "disabled_at", "created_at")
    list_filter = (
        "enabled",
        ("disabled_at", admin.EmptyFieldListFilter),
        "client",
    )
    list_select_related = ("client",)
    search_fields = ("url", "client__name")
    readonly_fields = (
        "id",
        "client",
        "disabled_at",
        "disabled_reason",
        "failing_since",
        "earlier_secrets_expire_at",
        "created_at",
        "updated_at",
    )
    ordering = ("-created_at", "-id")
    actions = ("rotate_secret",)

    def get_form(
        self,
        request: HttpRequest,
        obj: WebhookEndpoint | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        form = cast(
            type[WebhookEndpointAdminForm], super().get_form(request, obj, change, **kwargs)
        )
        form.staff_username = request.user.get_username()
        return form

    def get_readonly_fields(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> Any:
        # Adding asks for the client and the input; the rest is the service's.
        return () if obj is None else self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> Any:
        if obj is None:
            return ("client", *services.EDITABLE_FIELDS)
        return (*services.EDITABLE_FIELDS, *self.readonly_fields)

    @admin.display(description="Earlier secrets still signing, until")
    def earlier_secrets_expire_at(self, obj: WebhookEndpoint) -> str:
        # Their expiry only: a secret is shown once, when it is made.
        now = timezone.now()
        expiries = [datetime.fromisoformat(entry["expires_at"]) for entry in obj.previous_secrets]
        shown = [
            formats.localize(timezone.localtime(expires_at))
            for expires_at in expiries
            if now < expires_at
        ]
        return ", ".join(shown) or "-"

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        # Endpoints are deleted one at a time, through the service.
        actions.pop("delete_selected", None)
        return actions

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        # The form's clean() has written it through the services already.
        if form.created_secret:
            message = MSG_SECRET_SHOWN_ONCE.format(url=obj.url, secret=form.created_secret)
            self.message_user(request, message, messages.WARNING)

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        services.endpoint_delete(Caller.for_staff(request.user.get_username()), obj.pk)

    @admin.action(description="Rotate the signing secret", permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        """Give each selected endpoint a new secret, shown here once."""
        caller = Caller.for_staff(request.user.get_username())
        for endpoint_id in queryset.values_list("pk", flat=True):
            endpoint, secret = services.endpoint_rotate_secret(caller, endpoint_id)
            message = MSG_SECRET_SHOWN_ONCE.format(url=endpoint.url, secret=secret)
            self.message_user(request, message, messages.WARNING)
