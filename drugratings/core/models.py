from django.db import models
from django.utils import timezone


class JobLease(models.Model):
    """A named lease so that one worker at a time runs a scheduled job (claimed by UPDATE)."""

    name = models.CharField(max_length=40, primary_key=True)
    held_until = models.DateTimeField(default=timezone.now)

    class Meta:
        # Moved from analytics: the table keeps its name so existing rows stay where they are.
        db_table = "analytics_joblease"
