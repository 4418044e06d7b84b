"""Open an HTML report in headless Chromium (Debian's package) and measure it in the page."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

#: Injected at the end of a copy of the report: the page's own measurements, printed into the DOM.
_PROBE = """<script>
window.addEventListener('load', () => {
  const imgs = [...document.images];
  const tables = [...document.querySelectorAll('table')];
  const report = {
    width: window.innerWidth, scroll_width: document.documentElement.scrollWidth,
    images: imgs.length, broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length,
    tables: tables.length,
    cut_tables: tables.filter(t => t.getBoundingClientRect().right > window.innerWidth + 1).length,
  };
  const out = document.createElement('pre'); out.id = 'probe';
  out.textContent = 'PRO' + 'BE:' + JSON.stringify(report) + ':PRO' + 'BE'; document.body.appendChild(out);
});
</script>"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def measure(report: Path, screenshot: Path, width: int = 1400) -> dict:
    """Load ``report`` at ``width`` px; return the probe's numbers and write a screenshot."""
    probe = report.with_name("probe.html")
    probe.write_text(report.read_text().replace("</body>", _PROBE + "</body>"))
    common = [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
              f"--window-size={width},1200", "--virtual-time-budget=10000"]  # fmt: skip
    dom = subprocess.run(
        [*common, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120
    )
    subprocess.run(
        [*common, f"--screenshot={screenshot}", report.as_uri()], capture_output=True, timeout=120
    )
    found = re.search(r"PROBE:(.*?):PROBE", dom.stdout)
    if not found:
        raise AssertionError(f"the probe did not run: {dom.stderr[-1500:]}")
    return json.loads(found.group(1))
