"""Payouts from before clients existed belong to a client created for them, named "legacy".

Their history's create, edit and delete events are recorded as that client's (with no key);
every other event was the worker's.
"""

from django.db import migrations

LEGACY_CLIENT = "legacy"


def assign_to_legacy_client(apps, schema_editor):
    Payout = apps.get_model("payouts", "Payout")
    PayoutEvent = apps.get_model("payouts", "PayoutEvent")
    Client = apps.get_model("clients", "Client")
    if Payout.objects.filter(client__isnull=True).exists():
        client, _ = Client.objects.get_or_create(name=LEGACY_CLIENT)
        Payout.objects.filter(client__isnull=True).update(client=client)
    PayoutEvent.objects.filter(kind__in=["created", "updated", "deleted"]).update(
        actor_kind="client"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0001_initial"),
        ("payouts", "0006_payout_client"),
    ]

    operations = [
        migrations.RunPython(assign_to_legacy_client, migrations.RunPython.noop, elidable=True),
    ]
