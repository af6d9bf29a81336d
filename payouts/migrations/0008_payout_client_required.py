import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0001_initial"),
        ("payouts", "0007_assign_existing_payouts"),
    ]

    operations = [
        migrations.AlterField(
            model_name="payout",
            name="client",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="payouts",
                to="clients.client",
            ),
        ),
        migrations.AlterField(
            model_name="payoutevent",
            name="actor_kind",
            field=models.CharField(
                choices=[("client", "Client (API key)"), ("staff", "Staff user"), ("worker", "Worker")],
                max_length=10,
            ),
        ),
    ]
