from django.db import migrations, models


def copy_latest_override(apps, schema_editor):
    """Jobs reviewed before the column existed: their latest review's override label."""
    AnalysisJob = apps.get_model("cases", "AnalysisJob")
    JobReview = apps.get_model("cases", "JobReview")
    for job_id in JobReview.objects.values_list("job_id", flat=True).distinct():
        latest = JobReview.objects.filter(job_id=job_id).order_by("-created_at", "-id").first()
        AnalysisJob.objects.filter(pk=job_id).update(review_label=latest.override_label)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_verdict_card_facts"),
    ]

    operations = [
        migrations.AddField(
            model_name="analysisjob",
            name="review_label",
            field=models.CharField(
                blank=True,
                choices=[
                    ("manipulated", "Manipulated"),
                    ("authentic", "Authentic"),
                    ("inconclusive", "Inconclusive"),
                    ("no_faces", "No faces"),
                ],
                max_length=16,
            ),
        ),
        migrations.RunPython(copy_latest_override, migrations.RunPython.noop),
    ]
