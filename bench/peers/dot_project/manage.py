#!/usr/bin/env python
"""django-oauth-toolkit peer for Trustframe's benchmark (a minimal project, DOT's default settings)."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dot_project.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
