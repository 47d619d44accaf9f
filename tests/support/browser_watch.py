"""Watch a Playwright page for CSP violations, script errors and injected script that ran.

Three independent witnesses, because each can miss something:
- a `securitypolicyviolation` listener installed before any page script (Playwright init scripts
  are injected by the browser, outside the page's CSP);
- the console: Chromium logs every blocked resource or inline script there;
- the server: reports the browser POSTs to our report-uri are logged on `newsroom.csp`.
Hostile payloads set `window.__xss`; `assert_clean` checks it stayed undefined.
"""

import logging

INIT_SCRIPT = """
(() => {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push({directive: e.violatedDirective, blocked: e.blockedURI,
                                 sample: e.sample, source: e.sourceFile, line: e.lineNumber});
  }, true);
})();
"""


class _ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


class BrowserWatch:
    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        self.page_errors: list[str] = []
        self.seen: list[str] = []
        self._handler = _ListHandler()
        logging.getLogger("newsroom.csp").addHandler(self._handler)
        page.add_init_script(INIT_SCRIPT)
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.page_errors.append(f"{page.url}: {exc}"))

    def _on_console(self, msg):
        text = msg.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.console.append(f"{self.page.url}: {text}")

    @property
    def server_reports(self) -> list[str]:
        return list(self._handler.messages)

    def close(self):
        logging.getLogger("newsroom.csp").removeHandler(self._handler)

    def visit(self, url: str, *, expect_status=None):
        response = self.page.goto(url)
        self.page.wait_for_load_state("load")
        if expect_status is not None:
            assert response.status in expect_status, (url, response.status)
        self.check_page()
        return response

    def check_page(self):
        """Assert the current document reported no violation and no injected script ran."""
        url = self.page.url
        self.seen.append(url)
        violations = self.page.evaluate("window.__cspViolations || []")
        assert violations == [], f"CSP violations on {url}: {violations}"
        assert self.page.evaluate("typeof window.__xss") == "undefined", f"injected script ran on {url}"
        assert self.console == [], self.console
        assert self.page_errors == [], self.page_errors

    def assert_clean(self):
        self.check_page()
        assert self.server_reports == [], self.server_reports
