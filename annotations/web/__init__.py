"""The people-facing pages (queue, annotate, review, progress) in the Django admin look."""
