"""Writes. Plain functions named <noun>_<verb>, keyword-only arguments; views, tasks, admin
actions and commands only parse input and call these."""
