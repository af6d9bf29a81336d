"""The bare-Django baseline for create: the API's key check, rows and task, without DRF."""

from __future__ import annotations

import json
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from clients.authentication import AuthenticationRefused, caller_for_authorization
from events.models import EventType
from events.services import event_record
from payouts.models import Payout, PayoutEvent, PayoutEventKind
from payouts.tasks import enqueue_processing


@csrf_exempt
@require_POST
def bare_payout_create(request: HttpRequest) -> JsonResponse:
    """Check the API key, insert the payout, its history entry and its event in one
    transaction, enqueue on commit.

    The key check is the API's own, so both sides of the create ratio pay for it. No serializers
    and no domain validation: the floor that a Django view doing the same work can reach, so the
    API's ratio to it is the price of everything the product adds on top.
    """
    try:
        caller = caller_for_authorization(request.headers.get("Authorization"))
    except AuthenticationRefused as refused:
        return JsonResponse({"detail": refused.message, "code": refused.code.value}, status=401)
    assert caller.client is not None, "a key always acts for its client"
    data = json.loads(request.body)
    with transaction.atomic():
        payout = Payout.objects.create(
            client=caller.client,
            amount=Decimal(str(data["amount"])),
            currency=data["currency"],
            recipient_details=data["recipient_details"],
            description=data.get("description", ""),
            max_attempts=settings.PAYOUT_MAX_RETRIES + 1,
        )
        PayoutEvent.objects.create(
            payout=payout,
            kind=PayoutEventKind.CREATED,
            from_status="",
            to_status=payout.status,
            actor_kind=caller.actor_kind,
            actor=caller.actor,
        )
        # Its event, announced on commit as the API's is (webhooks fan out from it).
        event_record(payout, EventType.CREATED)
        transaction.on_commit(
            lambda: enqueue_processing(payout.id, attempt=1, max_attempts=payout.max_attempts)
        )
    return JsonResponse(
        {
            "id": str(payout.id),
            "amount": f"{payout.amount:.2f}",
            "currency": payout.currency,
            "recipient_details": payout.recipient_details,
            "status": payout.status,
            "description": payout.description,
            "failure_code": payout.failure_code,
            "failure_reason": payout.failure_reason,
            "provider_reference": payout.provider_reference,
            "created_at": payout.created_at.isoformat(),
            "updated_at": payout.updated_at.isoformat(),
        },
        status=201,
    )
