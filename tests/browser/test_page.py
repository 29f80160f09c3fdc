"""The interactive page in a real browser (headless Chromium over WebDriver):
the static page `chainrule graph --output page.html` writes, and the
playground `chainrule serve` serves.

Run by tests/browser/run (which builds the binary and checks the browser is
installed). Screenshots go to target/browser/ for a person to look at.
"""

import math
import os
import pathlib
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from webdriver import Browser  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("CHAINRULE", str(ROOT / "target" / "debug" / "chainrule"))
OUT = ROOT / "target" / "browser"
BAYDIN = "ln(x1) + x1*x2 - sin(x2)"

# Baydin et al. (JMLR 2018), tables 2 and 3: tangents along x1 and adjoints
# of every node v-1, v0, v1, ..., v5 at (x1, x2) = (2, 5).
TANGENTS = [1, 0, 0.5, 5, 0, 5.5, 5.5]
ADJOINTS = [5.5, 1.7163378, 1, 1, -1, 1, 1]

# The field texts (value, tangent, adjoint) of every node, in node order.
FIELD = "return [...document.querySelectorAll('#picture g.node')].map(g => g.querySelector('.f' + arguments[0]).dataset.text);"
STEP = "return window.chainrulePage.state.step;"


def numbers(texts):
    return [float(t) for t in texts]


def close(found, expected, digits=7):
    return len(found) == len(expected) and all(
        math.isclose(f, e, rel_tol=10 ** -digits, abs_tol=10 ** -digits) for f, e in zip(found, expected))


def baydin_page():
    """The static page of Baydin et al.'s example, as `chainrule graph` writes it."""
    page = OUT / "baydin.html"
    subprocess.run([BINARY, "graph", BAYDIN, "--at", "x1=2,x2=5", "--output", str(page)], check=True,
                   stdout=subprocess.DEVNULL)
    return page


class Page(unittest.TestCase):
    browser = None

    @classmethod
    def setUpClass(cls):
        OUT.mkdir(parents=True, exist_ok=True)
        cls.browser = Browser()

    @classmethod
    def tearDownClass(cls):
        cls.browser.quit()

    def tearDown(self):
        severe = [e for e in self.browser.console() if e.get("level") == "SEVERE"]
        self.assertEqual(severe, [], "the page logged errors to the console")

    def choose_sweep(self, index):
        self.browser.run("const s = document.getElementById('sweep'); s.value = arguments[0];"
                         "s.dispatchEvent(new Event('change'));", str(index))

    def check_baydin(self, name):
        """Steps both sweeps of Baydin et al.'s example, by keys and buttons."""
        b = self.browser
        sweeps = b.run("return [...document.querySelectorAll('#sweep option')].map(o => o.textContent);")
        self.assertEqual(sweeps, ["forward: tangents along x1", "forward: tangents along x2",
                                  "reverse: adjoints of the output"])
        # Forward, step by step with the arrow key.
        self.choose_sweep(0)
        b.run("document.activeElement.blur();")
        self.assertEqual(b.run(STEP), -1)
        self.assertEqual(b.run(FIELD, 1), [""] * 7, "tangents start blank")
        for expected_step in range(7):
            b.press("Right")
            self.assertEqual(b.run(STEP), expected_step)
            if expected_step == 3:
                text = b.run("return document.getElementById('step').textContent;")
                self.assertIn("v2 = v-1 × v0 = 2 × 5 = 10", text)
                self.assertIn("v̇2 = 5·v̇-1 + 2·v̇0 = 5·1 + 2·0 = 5", text)
                row = b.run("return document.querySelector('#trace tr.current td').textContent;")
                self.assertEqual(row, "v2")
                b.screenshot(OUT / f"{name}-forward.png")
        self.assertTrue(close(numbers(b.run(FIELD, 1)), TANGENTS), b.run(FIELD, 1))
        values = [2, 5, math.log(2), 10, math.sin(5), math.log(2) + 10, math.log(2) + 10 - math.sin(5)]
        self.assertTrue(close(numbers(b.run(FIELD, 0)), values), b.run(FIELD, 0))
        b.press("Left")
        self.assertEqual(b.run(STEP), 5)
        b.press("Home")
        self.assertEqual(b.run(STEP), -1)
        b.press("End")
        self.assertEqual(b.run(STEP), 6)
        # Reverse, with the buttons: to the end, then back to a middle step.
        self.choose_sweep(2)
        self.assertEqual(b.run(FIELD, 2), [""] * 7)
        b.click("#last")
        self.assertTrue(close(numbers(b.run(FIELD, 2)), ADJOINTS), b.run(FIELD, 2))
        b.click("#first")
        for _ in range(5):
            b.click("#next")
        text = b.run("return document.getElementById('step').textContent;")
        self.assertIn("+=", text)
        self.assertEqual(b.run("return document.querySelectorAll('path.edge.current').length;"), 1)
        b.screenshot(OUT / f"{name}-reverse.png")
        b.click("#back")
        self.assertEqual(b.run(STEP), 3)

    def test_static_page(self):
        page = baydin_page()
        b = self.browser
        b.resize(1280, 800)
        b.open(page.as_uri())
        b.wait("return document.querySelectorAll('#picture g.node').length === 7;")
        self.assertTrue(b.run("return document.getElementById('playground').hidden;"))
        self.check_baydin("static")

    def test_play_pause_hover_and_zoom(self):
        page = baydin_page()
        b = self.browser
        b.open(page.as_uri())
        b.wait("return document.querySelectorAll('#picture g.node').length === 7;")
        b.click("#play")
        b.wait("return window.chainrulePage.state.step >= 2;", 5)
        b.click("#play")
        paused = b.run(STEP)
        time.sleep(1.0)
        self.assertEqual(b.run(STEP), paused, "pause stops the steps")
        b.run("document.getElementById('n3').focus();")
        details = b.run("return document.getElementById('details').textContent;")
        self.assertIn("v2 = v-1 × v0", details)
        self.assertIn("∂v2/∂v-1 = 5", details)
        b.run("document.getElementById('e3-1').focus();")
        self.assertEqual(b.run("return document.getElementById('details').textContent;"), "∂v2/∂v0 = 2")
        before = b.run("return document.querySelector('#picture svg').getAttribute('viewBox');")
        b.click("#zoom-in")
        after = b.run("return document.querySelector('#picture svg').getAttribute('viewBox');")
        self.assertNotEqual(before, after)
        b.click("#fit")

    def test_phone_width(self):
        page = baydin_page()
        b = self.browser
        b.resize(390, 844)
        try:
            b.open(page.as_uri())
            b.wait("return document.querySelectorAll('#picture g.node').length === 7;")
            width = b.run("return [document.documentElement.scrollWidth, window.innerWidth];")
            self.assertLessEqual(width[0], width[1] + 1, "no horizontal scrolling at phone width")
            b.click("#last")
            self.assertEqual(b.run("return window.scrollY;"), 0, "stepping keeps the page where it was")
            b.screenshot(OUT / "phone.png")
        finally:
            b.resize(1280, 800)

    def test_tensor_page(self):
        subprocess.run(["cargo", "run", "--quiet", "--example", "pages"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        b = self.browser
        b.resize(1280, 800)
        b.open((ROOT / "target" / "pages" / "mlp.html").as_uri())
        count = b.wait("return document.querySelectorAll('#picture g.node').length;")
        self.assertEqual(count, 12)
        b.run("document.activeElement.blur();")
        b.press("End")
        values = b.run(FIELD, 1)
        self.assertTrue(all(v for v in values), values)
        self.choose_sweep(1)
        b.press("End")
        gradients = b.run(FIELD, 2)
        # Parameters (weights and biases) have gradients; the data does not.
        self.assertEqual(gradients[0], "")
        self.assertTrue(all(gradients[1:]), gradients)
        shapes = b.run(FIELD, 0)
        self.assertEqual(shapes[:3], ["[5, 4]", "[4, 8]", "[8]"])
        b.press("Home")
        for _ in range(4):
            b.press("Right")
        self.assertIn("matmul", b.run("return document.getElementById('step').textContent;"))
        b.screenshot(OUT / "tensor-reverse.png")

    def test_playground(self):
        server = subprocess.Popen([BINARY, "serve", "--port", "0"], stdout=subprocess.PIPE, text=True)
        try:
            line = server.stdout.readline()
            self.assertIn("http://127.0.0.1:", line)
            url = line.split()[2]
            b = self.browser
            b.resize(1280, 800)
            b.open(url)
            b.wait("return document.querySelectorAll('#picture g.node').length === 7;")
            self.assertFalse(b.run("return document.getElementById('playground').hidden;"))
            self.check_baydin("playground")
            # A new expression, typed: the server computes, the page redraws.
            b.clear("#expression")
            b.type("#expression", "x*y + sin(x)")
            b.clear("#point")
            b.type("#point", "x=1,y=2")
            b.wait("return document.title.startsWith('x*y + sin(x)') && document.querySelectorAll('#picture g.node').length === 5;")
            self.choose_sweep(0)
            b.run("document.activeElement.blur();")
            b.press("End")
            # x, y, x·y, sin x, x·y + sin x along x: 1, 0, y, cos x, y + cos x.
            self.assertTrue(close(numbers(b.run(FIELD, 1)), [1, 0, 2, math.cos(1), 2 + math.cos(1)]),
                            b.run(FIELD, 1))
            self.choose_sweep(2)
            b.press("End")
            self.assertTrue(close(numbers(b.run(FIELD, 2)), [2 + math.cos(1), 1, 1, 1, 1]), b.run(FIELD, 2))
            b.screenshot(OUT / "playground.png")
            # Bad input: a clear error, and the last good graph stays.
            b.type("#expression", " + foo(x)")
            message = b.wait("const e = document.getElementById('error'); return !e.hidden && e.textContent;")
            self.assertIn("foo", message)
            self.assertEqual(b.run("return document.querySelectorAll('#picture g.node').length;"), 5)
            # Too large a graph: a message, not a frozen tab.
            b.clear("#expression")
            b.type("#expression", "+".join(["sin(x*y)"] * 300))
            message = b.wait("const e = document.getElementById('error');"
                             "return !e.hidden && e.textContent.includes('more than') && e.textContent;")
            self.assertIn("nodes", message)
            # The chain rule as matrices.
            b.clear("#expression")
            b.type("#expression", "x")
            # R^2 → R^3 → R^2 → R^1: forward 2·3·2 + 1·2·2 = 16, reverse 1·3·2 + 1·2·3 = 12.
            b.type("#stages", "x*y; x+y; sin(x)\na*b*c; a-c\np*q")
            b.wait("return !document.getElementById('chain').hidden;")
            text = b.run("return document.getElementById('chain').textContent;")
            self.assertIn("J3·J2·J1", text)
            self.assertIn("equals the Jacobian of the whole composition", text)
            costs = b.run("return [...document.querySelectorAll('#chain-cost tr')].map(r => r.textContent);")
            self.assertEqual(len(costs), 3)
            self.assertIn("16", costs[1])
            self.assertIn("12", costs[2])
            cheaper = b.run("return document.querySelector('#chain-cost tr.cheaper').textContent;")
            self.assertTrue(cheaper.startswith("reverse"), cheaper)
            b.run("document.getElementById('chain').scrollIntoView();")
            b.screenshot(OUT / "chain.png")
            # The browser's own requests (the page, no favicon) all succeeded.
        finally:
            server.terminate()
            server.wait(timeout=10)
            server.stdout.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
