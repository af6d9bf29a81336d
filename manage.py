#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

from __future__ import annotations

import os
import sys

from project.consumer import patch_for_greenlets, share_worker_count


def main() -> None:
    # First of all: a greenlet consumer needs gevent's patches in place before Django, psycopg
    # or Huey import the modules they replace.
    patch_for_greenlets(sys.argv, os.environ)
    share_worker_count(sys.argv, os.environ)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    from django.core.management import execute_from_command_line

    from project.startup import settings_or_exit

    settings_or_exit()
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
