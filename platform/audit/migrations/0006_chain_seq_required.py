"""Every event now has its place in a chain, and no two share one."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_chain_existing_events")]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(fields=("chain", "seq"), name="audit_chain_seq_unique"),
        ),
    ]
