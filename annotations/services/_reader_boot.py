"""Imported by the export reader's forkserver before it forks any child (services.reader_process):
Django and the export selectors are loaded once, so each export's child starts in milliseconds."""

import gc

import django

django.setup()

import annotations.selectors.exports  # noqa: E402,F401

# Everything loaded so far lives as long as the process: keep it out of the collector's full
# passes (in every child too), which otherwise rescan it again and again while a child builds
# hundreds of thousands of dicts.
gc.freeze()
