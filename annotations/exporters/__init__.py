"""Export formatters: small pure functions from plain article dicts to bytes.

Each module turns an iterable of article dicts (see `base.ArticleDict`) into an iterator of
bytes chunks; none of them touches the database, so each is unit-tested on plain data.
`registry.FORMATS` names them for the API, the export jobs and `manage.py export_dataset`.
"""
