from django.core.management.base import BaseCommand

from drugratings.web.digests import send_due_digests


class Command(BaseCommand):
    help = "Email the daily notification digest to physicians who asked for it (the worker too)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"{send_due_digests()} digest(s) sent")
