"""Routes of the REST API."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from rest_api.events import EventViewSet
from rest_api.views import PayoutViewSet
from rest_api.webhook_deliveries import WebhookDeliveryViewSet
from rest_api.webhook_endpoints import WebhookEndpointViewSet


class OptionalSlashRouter(DefaultRouter):
    """Routes that match with or without the trailing slash.

    Without it Django answers `POST /api/payouts` with a 301, which clients follow as a GET:
    they get the list and believe the payout was made.
    """

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("payouts", PayoutViewSet, basename="payout")
router.register("events", EventViewSet, basename="event")
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
router.register(
    r"webhook-endpoints/(?P<endpoint_id>[^/]+)/deliveries",
    WebhookDeliveryViewSet,
    basename="webhook-delivery",
)

urlpatterns = router.urls
