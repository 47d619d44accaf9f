"""Pure text logic with no Django import: offsets, normalisation, tokens. Unit-tested without a database."""
