"""Pure metric modules (no Django): agreement between annotators."""
