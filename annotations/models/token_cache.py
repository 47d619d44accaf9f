from django.db import models


class ArticleTokens(models.Model):
    """A cache: spaCy's tokens of an article's text as the conll and spacy exports use them (token
    lengths, whitespace and sentence-start flags, ORTH hashes; see exporters.tokenize.encode_tokens).

    Valid only for the text whose SHA-256 is `text_hash` and for the tokenizer named `tokenizer`;
    the export checks both against the text it exports and tokenises again on any difference, so
    an edited text never gets its old tokens. Written by the export that tokenised the text."""

    article = models.OneToOneField(
        "annotations.Article", primary_key=True, on_delete=models.CASCADE, related_name="token_cache")
    text_hash = models.CharField(max_length=64, help_text="SHA-256 of the text these tokens are of.")
    tokenizer = models.CharField(max_length=100, help_text="The tokenizer and blob format that made `data`.")
    data = models.BinaryField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"tokens of article {self.article_id}"
