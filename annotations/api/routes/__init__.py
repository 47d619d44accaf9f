"""Per-area API routes, joined in annotations/api/urls.py."""
