"""Entry point shared by ./manage.py and the installed `drugratings-manage` command."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "drugratings.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
