"""A small W3C WebDriver client over the standard library, for headless
Chromium driven by chromedriver. Only what the page tests need."""

import base64
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request

# WebDriver key codes (W3C WebDriver, "Keyboard actions").
KEYS = {"End": "\ue010", "Home": "\ue011", "Left": "\ue012", "Right": "\ue014", "Space": "\ue00d"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebDriverError(RuntimeError):
    pass


class Browser:
    """One headless Chromium session."""

    def __init__(self, chromedriver="chromedriver", chromium=None, width=1280, height=800):
        self.port = free_port()
        self.process = subprocess.Popen(
            [chromedriver, f"--port={self.port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 30
        while True:
            try:
                if self._call("GET", "/status")["value"].get("ready"):
                    break
            except (OSError, WebDriverError):
                pass
            if time.time() > deadline:
                self.process.kill()
                raise WebDriverError("chromedriver did not start within 30 s")
            time.sleep(0.1)
        options = {"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            f"--window-size={width},{height}"]}
        if chromium:
            options["binary"] = chromium
        capabilities = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": options, "goog:loggingPrefs": {"browser": "ALL"}}}}
        self.session = self._call("POST", "/session", capabilities)["value"]["sessionId"]

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise WebDriverError(f"{method} {path}: {error.code} {error.read()[:500]!r}") from None

    def command(self, method, path, body=None):
        return self._call(method, f"/session/{self.session}{path}", body)["value"]

    def open(self, url):
        self.command("POST", "/url", {"url": url})

    def run(self, script, *args):
        """Runs `script` (a function body; `arguments` holds args) and returns its result."""
        return self.command("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css):
        value = self.command("POST", "/element", {"using": "css selector", "value": css})
        return next(iter(value.values()))

    def click(self, css):
        self.command("POST", f"/element/{self.find(css)}/click", {})

    def clear(self, css):
        self.command("POST", f"/element/{self.find(css)}/clear", {})

    def type(self, css, text):
        self.command("POST", f"/element/{self.find(css)}/value", {"text": text})

    def press(self, key):
        """Presses and releases one key on whatever has the focus."""
        code = KEYS.get(key, key)
        self.command("POST", "/actions", {"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": code}, {"type": "keyUp", "value": code}]}]})
        self.command("DELETE", "/actions")

    def resize(self, width, height):
        self.command("POST", "/window/rect", {"width": width, "height": height})

    def screenshot(self, path):
        with open(path, "wb") as out:
            out.write(base64.b64decode(self.command("GET", "/screenshot")))

    def console(self):
        """Browser console entries since the last call."""
        return self.command("POST", "/se/log", {"type": "browser"})

    def wait(self, script, timeout=10, *args):
        """Waits until `script` returns a truthy value, and returns it."""
        deadline = time.time() + timeout
        while True:
            value = self.run(script, *args)
            if value:
                return value
            if time.time() > deadline:
                raise WebDriverError(f"timed out waiting for: {script}")
            time.sleep(0.05)

    def quit(self):
        try:
            self.command("DELETE", "")
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
