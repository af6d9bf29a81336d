"""The REST surface over the payouts domain (Django REST framework)."""
