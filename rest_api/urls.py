"""Routes of the REST API."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from rest_api.views import PayoutViewSet

router = DefaultRouter()
router.register("payouts", PayoutViewSet, basename="payout")

urlpatterns = router.urls
