"""The browsable API under our Content-Security-Policy.

DRF's HTML templates style elements with inline `style="..."` attributes and a `<style>` block
(pygments), in many places (forms, filters, fieldsets). On the HTML pages of the browsable API,
and only there, the policy adds `'unsafe-inline'` to style-src. script-src stays `'self'`: DRF's
pages load only their own script files (the CSRF token travels in a `application/json` block).
JSON answers carry the unchanged policy.
"""

from csp.constants import SELF, UNSAFE_INLINE
from rest_framework.renderers import BrowsableAPIRenderer

BROWSABLE_API_CSP = {"style-src": [SELF, UNSAFE_INLINE]}


class CspBrowsableAPIRenderer(BrowsableAPIRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            # Read by django-csp's middleware (the same attribute its @csp_update decorator sets).
            response._csp_update = BROWSABLE_API_CSP
        return super().render(data, accepted_media_type, renderer_context)
