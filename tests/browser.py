"""Measure a page in a real headless Chromium: what is on the first screen, whether anything
overflows the viewport, whether every image loaded.

The page is copied with a small probe script appended and shown in a frame of the given
size; Chromium prints the DOM after the load (``--dump-dom``), where the probe has left its
measurements as JSON. No driver package is needed, only the ``chromium`` binary (``.ci/run``
installs it from Debian).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

PROBE = """<script>
window.addEventListener("load", () => {
  const height = window.innerHeight, width = window.innerWidth;
  const checks = {};
  for (const el of document.querySelectorAll("[data-check]")) {
    const r = el.getBoundingClientRect();
    checks[el.dataset.check] = {top: r.top, bottom: r.bottom, text: el.innerText};
  }
  const images = [...document.images];
  const result = {
    width: width,
    height: height,
    scroll_width: document.documentElement.scrollWidth,
    checks: checks,
    images: images.length,
    broken_images: images.filter(i => !i.complete || i.naturalWidth === 0).length,
    widest: [...document.querySelectorAll("body *")]
      .filter(e => e.getBoundingClientRect().right > width + 1)
      .filter(e => !e.closest("table"))
      .map(e => e.tagName.toLowerCase() + (e.className ? "." + e.className : ""))
      .slice(0, 10),
  };
  parent.postMessage(JSON.stringify(result), "*");
});
</script>"""

#: The page is measured inside an iframe of exactly the asked size (a headless window
#: cannot be made narrower than ~500 px); the frame's result comes back by postMessage.
FRAME = """<!DOCTYPE html><html><body style="margin:0">
<iframe src="{src}" style="width:{width}px;height:{height}px;border:0"></iframe>
<script>
window.addEventListener("message", (e) => {{
  const out = document.createElement("pre");
  out.id = "probe-result";
  out.textContent = e.data;
  document.body.appendChild(out);
}});
</script></body></html>"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def measure(page: Path, width: int, height: int, workdir: Path) -> dict:
    """Load ``page`` at ``width`` x ``height`` CSS pixels; return the probe's measurements."""
    probed = workdir / f"probed_{width}_{page.name}"
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    frame = workdir / f"frame_{width}_{page.name}"
    frame.write_text(FRAME.format(src=probed.name, width=width, height=height))
    done = subprocess.run(
        [
            chromium(),
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={workdir / f'profile_{width}'}",
            f"--window-size={width + 100},{height + 100}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            frame.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    found = re.search(r'<pre id="probe-result">(.*?)</pre>', done.stdout, re.S)
    assert found, f"Chromium left no measurements (exit {done.returncode}): {done.stderr[-800:]}"
    text = found.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
    return json.loads(text.replace("&amp;", "&"))
