"""Reads. Querysets scoped to what the caller may see."""
