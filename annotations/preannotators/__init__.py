"""Pre-annotator plug-ins: text in, suggested spans and links out. See base.py for the interface."""
