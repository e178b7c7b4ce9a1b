"""Drives Debian's chromium (headless, through Playwright for Python) against
the live view of a running program, and prints one JSON object with what
the page showed: the Rust test (tests/tests/ui_browser.rs) makes every
assertion on it. Never downloads a browser: it launches the executable it
is given.

    python live_view.py view  URL SCREENSHOT_DIR FAILED_RUN_ID
    python live_view.py token URL SCREENSHOT_DIR TOKEN
    python live_view.py readme URL SCREENSHOT_DIR AGENT   (the README's picture)

`view`: loads each tab, records console messages, page errors and every
request's origin; reads the overview's tables (each cell's data-v), the
runs list, and the failed run's waterfall (each call's index, parent,
kind, name, status, tokens, cost, error type and message as rendered),
checks the hostile error text is in the page as text (and ran nothing),
and saves screenshots.

`token`: the page and the API without the token, with it as a bearer
header, and signing in with /?token= (cookie), in fresh contexts.
"""
import json
import os
import sys
import tempfile
from urllib.parse import quote, urlsplit

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("OBS_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Generous: a waiting step, never a speed assertion (the machine may be loaded).
TIMEOUT_MS = 120_000


PROFILES = []


def launch(p, **ctx_args):
    # A fresh profile each time (--user-data-dir), headless (Playwright adds
    # --headless); removed when the driver ends.
    profile = tempfile.TemporaryDirectory(prefix="obs-ui-chromium-")
    PROFILES.append(profile)
    ctx = p.chromium.launch_persistent_context(
        profile.name,
        executable_path=CHROMIUM,
        headless=True,
        args=FLAGS,
        viewport={"width": 1400, "height": 1000},
        **ctx_args,
    )
    ctx.set_default_timeout(TIMEOUT_MS)
    return ctx


def table(page, sel):
    """{row name: {column: data-v}} of a table built by ui.js."""
    return page.eval_on_selector_all(
        sel + " tbody tr[data-name]",
        """rows => Object.fromEntries(rows.map(r => [r.dataset.name,
            Object.fromEntries([...r.querySelectorAll('td[data-k]')].map(td => [td.dataset.k, td.dataset.v ?? null]))]))""",
    )


def view(url, shots, failed_id):
    out = {"console": [], "page_errors": [], "origins": [], "dialogs": 0}
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    with sync_playwright() as p:
        ctx = launch(p)
        page = ctx.new_page()
        page.on("console", lambda m: out["console"].append({"type": m.type, "text": m.text}))
        page.on("pageerror", lambda e: out["page_errors"].append(str(e)))
        page.on("request", lambda r: out["origins"].append("{0.scheme}://{0.netloc}".format(urlsplit(r.url))))
        page.on("dialog", lambda d: (out.__setitem__("dialogs", out["dialogs"] + 1), d.dismiss()))

        page.goto(url + "#overview")
        page.wait_for_selector("body[data-loaded='overview']")
        page.wait_for_selector("#agents tbody tr[data-name]")
        out["overview"] = {
            "agents": table(page, "#agents"),
            "models": table(page, "#models"),
            "tools": table(page, "#tools"),
            "cards": page.eval_on_selector_all("#cards .card", "cs => Object.fromEntries(cs.map(c => [c.dataset.k, c.dataset.v]))"),
            "budgets": page.eval_on_selector_all("#budgets [data-name]", "bs => bs.map(b => [b.dataset.name, b.dataset.v, b.innerText])"),
            "health": page.eval_on_selector_all("#health [data-name]", "hs => hs.map(h => [h.dataset.name, h.innerText])"),
            "alerts": page.eval_on_selector_all("#alerts [data-name]", "as => as.map(a => [a.dataset.name, a.innerText])"),
        }
        page.screenshot(path=os.path.join(shots, "overview.png"), full_page=True)

        page.goto(url + "#runs")
        page.wait_for_selector("body[data-loaded='runs']")
        page.wait_for_selector("#runs tbody tr[data-id]")
        out["runs"] = page.eval_on_selector_all(
            "#runs tbody tr[data-id]",
            """rows => rows.map(r => ({id: r.dataset.id, status: r.dataset.status, agent: r.dataset.agent,
                request: r.querySelector('td[data-k=request_id]').textContent,
                user: r.querySelector('td[data-k=user_id]').textContent,
                conversation: r.querySelector('td[data-k=conversation_id]').textContent}))""",
        )
        page.screenshot(path=os.path.join(shots, "runs.png"), full_page=True)
        # The filters: by status, then by text.
        page.select_option("#f-status", "failed")
        page.wait_for_function("() => [...document.querySelectorAll('#runs tbody tr[data-id]')].every(r => r.dataset.status === 'error')")
        out["filtered_failed"] = page.eval_on_selector_all("#runs tbody tr[data-id]", "rs => rs.map(r => r.dataset.id)")
        page.select_option("#f-status", "")
        page.fill("#f-text", "conv-support")
        page.wait_for_function("() => { const r = document.querySelectorAll('#runs tbody tr[data-id]'); return r.length === 1 && r[0].dataset.agent === 'support'; }")
        page.fill("#f-text", "")

        # Open the failed run from the list, as a user does.
        page.wait_for_selector(f"#runs tbody tr[data-id='{failed_id}']")
        page.click(f"#runs tbody tr[data-id='{failed_id}']")
        page.wait_for_selector(f"body[data-loaded='runs/{failed_id}']")
        page.wait_for_selector("#waterfall tbody tr[data-index]")
        out["run"] = page.eval_on_selector_all(
            "#waterfall tbody tr[data-index]",
            """rows => rows.map(r => ({
                index: Number(r.dataset.index),
                parent: r.dataset.parent === undefined ? null : Number(r.dataset.parent),
                kind: r.dataset.kind, status: r.dataset.status,
                name: r.querySelector('[data-k=name]').textContent,
                tokens: r.querySelector('td[data-k=tokens]').dataset.v ?? null,
                cost: r.querySelector('td[data-k=cost]').dataset.v ?? null,
                error_type: r.querySelector('td[data-k=error_type]').textContent,
                depth: parseInt(r.querySelector('td.name').style.paddingLeft)}))""",
        )
        out["run_meta"] = page.eval_on_selector_all("#view-run .meta [data-k]", "ms => Object.fromEntries(ms.map(m => [m.dataset.k, m.textContent]))")
        out["error_messages"] = page.eval_on_selector_all("#waterfall [data-k=error_message]", "es => es.map(e => e.textContent)")
        out["inputs"] = page.eval_on_selector_all("#waterfall pre[data-k=input]", "es => es.map(e => e.textContent)")
        out["pwned"] = page.evaluate("() => window.__pwned === undefined ? null : window.__pwned")
        out["img_in_run"] = page.eval_on_selector_all("#view-run img", "is => is.length")
        out["script_in_run"] = page.eval_on_selector_all("#view-run script", "ss => ss.length")
        page.screenshot(path=os.path.join(shots, "failed-run.png"), full_page=True)

        page.goto(url + "#failures")
        page.wait_for_selector("body[data-loaded='failures']")
        page.wait_for_selector("#failures tbody tr[data-name]")
        out["failures"] = page.eval_on_selector_all(
            "#failures tbody tr[data-name]",
            """rows => rows.map(r => ({function: r.dataset.name, error_type: r.dataset.errorType,
                count: r.querySelector('td[data-k=count]').dataset.v,
                messages: [...r.querySelectorAll('td[data-k=messages] div div')].map(d => d.textContent),
                link: (r.querySelector('td[data-k=last_run] a') || {}).hash || null}))""",
        )
        page.screenshot(path=os.path.join(shots, "failures.png"), full_page=True)

        # Dark mode: the same page, readable (a screenshot to look at).
        dark = ctx.new_page()
        dark.emulate_media(color_scheme="dark")
        dark.goto(url + "#overview")
        dark.wait_for_selector("#agents tbody tr[data-name]")
        out["dark_background"] = dark.evaluate("() => getComputedStyle(document.body).backgroundColor")
        dark.screenshot(path=os.path.join(shots, "overview-dark.png"), full_page=True)
        ctx.close()
    out["same_origin"] = all(o == origin for o in out["origins"])
    return out


def token(url, shots, tok):
    out = {}
    with sync_playwright() as p:
        ctx = launch(p)
        page = ctx.new_page()
        r = page.goto(url)
        out["page_without"] = r.status
        out["api_without"] = page.evaluate("async () => (await fetch('api/runs')).status")
        out["js_without"] = page.evaluate("async () => (await fetch('ui.js')).status")
        ctx.close()

        ctx = launch(p, extra_http_headers={"Authorization": "Bearer " + tok})
        page = ctx.new_page()
        r = page.goto(url)
        out["page_with_header"] = r.status
        out["api_with_header"] = page.evaluate("async () => (await fetch('api/runs')).status")
        ctx.close()

        ctx = launch(p)
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        r = page.goto(url + "?token=" + quote(tok, safe=""))
        out["signed_in_status"] = r.status
        out["signed_in_url"] = page.url
        page.wait_for_selector("#agents tbody tr[data-name]")
        out["api_with_cookie"] = page.evaluate("async () => (await fetch('api/runs')).status")
        out["cookie_http_only"] = page.evaluate("() => document.cookie") == ""
        out["page_errors"] = errors
        page.screenshot(path=os.path.join(shots, "signed-in.png"), full_page=True)
        ctx.close()

        ctx = launch(p)
        page = ctx.new_page()
        r = page.goto(url + "?token=" + "x" * len(tok))
        out["wrong_token_status"] = r.status
        ctx.close()
    return out


def readme(url, shots, agent):
    """The newest run of `agent`, opened, and the overview: the README's pictures."""
    with sync_playwright() as p:
        ctx = launch(p)
        page = ctx.new_page()
        page.set_viewport_size({"width": 1280, "height": 820})
        page.goto(url + "#runs")
        page.wait_for_selector(f"#runs tbody tr[data-agent='{agent}']")
        page.click(f"#runs tbody tr[data-agent='{agent}']")
        page.wait_for_selector("#waterfall tbody tr[data-index]")
        page.screenshot(path=os.path.join(shots, "live-view-run.png"))
        page.goto(url + "#overview")
        page.wait_for_selector("#agents tbody tr[data-name]")
        page.screenshot(path=os.path.join(shots, "live-view-overview.png"))
        ctx.close()
    return {"saved": shots}


def main():
    mode, url, shots, arg = sys.argv[1:5]
    os.makedirs(shots, exist_ok=True)
    try:
        out = {"view": view, "token": token, "readme": readme}[mode](url, shots, arg)
    finally:
        for profile in PROFILES:
            profile.cleanup()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
