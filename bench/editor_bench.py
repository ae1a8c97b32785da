"""How fast the edit page becomes interactive for a 2-hour window, in Chromium.

    .venv/bin/python bench/editor_bench.py [--quick] [--repeat N]

"Interactive" = the first frame decoded and the waveform of the whole window drawn, read from the
page's own performance marks (milliseconds since navigation start). The reference, measured in the
same run and the same browser, is the time a script on the same origin needs to fetch the same data
(config, transitions, templates, the event, master and media playlists, first segment, the
waveform peaks of every hour of the window) without rendering. The goal is interactive in <= 2 s. The restreamer decodes an hour's peaks once and keeps them: the
first view of never-seen hours (cold) is measured once and printed apart; the rounds after it see
the peaks kept, as every later view of those hours does. Real processes: a thrimshim over SQLite
serving the editor, and a restreamer over a 60 s clip looped with continuous timestamps (2 h;
10 min with --quick). The restreamer view (/watch) of the same window is measured too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.results import record
from playwright.sync_api import sync_playwright
from tests.conftest import STORE_START
from tests.editor.browser import CHROMIUM, CHROMIUM_ARGS
from tests.editor.servers import migrated_sqlite, start_restreamer, start_thrimshim
from tests.harness.media import encode_clip, loop_clip, store_clip
from tests.harness.processes import stop_all

from wubloader.db import events
from wubloader.db.event_records import SheetEvent

GOAL_MS = 2000.0
FMT = "%Y-%m-%dT%H:%M:%S"

# Fetch, without rendering, what the edit page fetches: each step needs the previous one's answer.
FETCH_ONLY = """async ([restreamer, channel, start, end, hours]) => {
    const t0 = performance.now();
    const text = async (url) => { const r = await fetch(url); if (!r.ok) throw new Error(url); return r.text(); };
    await text('/editor/config.json');
    await Promise.all(['/thrimshim/transitions', '/thrimshim/templates'].map(text));
    await text('/thrimshim/bench');
    const query = `?start=${start}&end=${end}`;
    const master = await text(`${restreamer}/playlist/${channel}.m3u8${query}`);
    const mediaUri = master.split('\\n').find((l) => l && !l.startsWith('#'));
    const waveform = Promise.all(hours.map((h) => fetch(`${restreamer}/waveform/${channel}/source/${h}.peaks`).then((r) => r.arrayBuffer())));
    const mediaUrl = new URL(mediaUri, `${restreamer}/playlist/`).href;
    const media = await text(mediaUrl);
    const segment = media.split('\\n').find((l) => l && !l.startsWith('#'));
    await Promise.all([fetch(new URL(segment, mediaUrl).href).then((r) => r.arrayBuffer()), waveform]);
    return performance.now() - t0;
}"""


def build_store(base: Path, work: Path, minutes: int) -> None:
    clip = encode_clip(work / "clip", 60)
    store_clip(base, loop_clip(work / "long", clip, minutes), STORE_START)


# Where the edit page's time goes (ms since navigation): page marks and Resource Timing (the
# restreamer sends Timing-Allow-Origin, so its responses' timings are readable across origins).
STAGES = """() => {
    const mark = (name) => performance.getEntriesByName(name)[0]?.startTime ?? null;
    const entry = (part) => performance.getEntriesByType('resource').find((e) => e.name.includes(part));
    const end = (part) => entry(part)?.responseEnd ?? null;
    const nav = performance.getEntriesByType('navigation')[0];
    return {
        'scripts run (DOMContentLoaded)': nav.domContentLoadedEventEnd,
        'event row fetched': end('/thrimshim/bench'),
        'master playlist fetched': end('/playlist/chan.m3u8'),
        'media playlist fetched': end('/playlist/chan/'),
        'media playlist parsed (hls.js)': mark('playlist-parsed'),
        'first segment fetched': end('/segments/'),
        'first fragment loaded (hls.js)': mark('first-fragment-loaded'),
        'first fragment buffered': mark('first-fragment-buffered'),
        'waveform peaks fetched': end('.peaks'),
        'waveform drawn': mark('waveform-drawn'),
        'player ready (first frame)': mark('player-ready'),
    };
}"""


def stages_ms(page) -> dict[str, float | None]:
    """The edit page's milestones (ms since navigation), None for one that did not happen."""
    return page.evaluate(STAGES)


def interactive_ms(page, url: str) -> tuple[float, float | None]:
    """(player ready, interactive) in ms since navigation; interactive None if the waveform failed."""
    page.goto(url)
    page.wait_for_selector("body[data-ready=yes]", timeout=600_000)
    if page.get_attribute("body", "data-loaded") != "yes":
        raise SystemExit(f"page failed to load: {page.inner_text('#notices')}")
    # The page is loaded once its playlist is parsed and waveform drawn: the first frame may come later.
    page.wait_for_function("performance.getEntriesByName('player-ready').length > 0", timeout=600_000)
    player, waveform = page.evaluate(
        "['player-ready', 'waveform-drawn'].map((n) => performance.getEntriesByName(n)[0]?.startTime ?? null)"
    )
    if waveform is None:
        print(f"  {url}: waveform not drawn: {page.inner_text('#notices').strip()}")
        return player, None
    return player, max(player, waveform)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10-minute window, one round")
    parser.add_argument("--repeat", type=int, default=None, help="rounds (default 5; 1 with --quick)")
    args = parser.parse_args()
    minutes = 10 if args.quick else 120
    rounds = args.repeat or (1 if args.quick else 5)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        build_store(work / "store", work, minutes)
        database = migrated_sqlite(work / "events.sqlite")
        with database.transaction() as conn:
            # The edit page's window is 1 min before the start to 2 min after the end: the whole store.
            start, end = STORE_START + timedelta(minutes=1), STORE_START + timedelta(minutes=minutes - 2)
            events.insert_event(
                conn, SheetEvent(id="bench", sheet_name="bench", event_start=start, event_end=end)
            )
        database.close()
        restreamer = start_restreamer(work / "store", work / "logs")
        thrimshim = start_thrimshim(database.url, restreamer.url, work / "logs", "--no-authentication")
        try:
            return measure(thrimshim.url, restreamer.url, minutes, rounds)
        finally:
            stop_all([thrimshim, restreamer])


def measure(editor_url: str, restreamer_url: str, minutes: int, rounds: int) -> int:
    start = f"{STORE_START:{FMT}}"
    end = f"{STORE_START + timedelta(minutes=minutes):{FMT}}"
    pages = {
        "edit page": f"{editor_url}/edit/bench",
        "watch page": f"{editor_url}/watch?channel=chan&start={start}&end={end}",
    }
    times: dict[str, list[float]] = {name: [] for name in [*pages, "fetch only"]}
    players: dict[str, list[float]] = {name: [] for name in pages}
    stages: dict[str, list[float]] = {}
    hours = sorted({f"{STORE_START + timedelta(minutes=m):%Y-%m-%dT%H}" for m in range(minutes)})
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        with browser.new_context() as context:
            cold = interactive_ms(context.new_page(), pages["edit page"])
        for _ in range(rounds):
            # Interleaved rounds, each in a fresh context (cold HTTP cache), so load bursts hit all alike.
            for name, url in pages.items():
                with browser.new_context() as context:
                    page = context.new_page()
                    player, interactive = interactive_ms(page, url)
                    if name == "edit page":
                        for stage, at in stages_ms(page).items():
                            stages.setdefault(stage, []).extend([] if at is None else [at])
                players[name].append(player)
                if interactive is not None:
                    times[name].append(interactive)
            with browser.new_context() as context:
                page = context.new_page()
                page.goto(f"{editor_url}/editor/config.json")
                times["fetch only"].append(
                    page.evaluate(FETCH_ONLY, [restreamer_url, "chan", start, end, hours])
                )
        browser.close()
    report(times, players, minutes, rounds)
    print("  edit page milestones (median ms since navigation):")
    for stage, values in stages.items():
        print(f"    {stage:36} {statistics.median(values) if values else float('nan'):8.0f}")
    first = "failed (waveform not drawn)" if cold[1] is None else f"{cold[1]:8.0f} ms"
    print(f"  {'edit page, first view (peaks decoded)':38} {first}  (player ready {cold[0]:.0f} ms)")
    return 0


def report(times: dict[str, list[float]], players: dict[str, list[float]], minutes: int, rounds: int) -> None:
    reference = statistics.median(times["fetch only"])
    print(f"editor pages, {minutes} min window, {rounds} round(s), load average {os.getloadavg()[0]:.2f}")
    for name, values in players.items():
        print(f"  {name + ' player ready':38} {statistics.median(values):8.0f} ms")
    for name, values in times.items():
        what = "same data fetched without rendering" if name == "fetch only" else f"{name} interactive"
        if not values:
            print(f"  {what:38}   failed (waveform not drawn)")
            continue
        shown = statistics.median(values)
        print(f"  {what:38} {shown:8.0f} ms  (min {min(values):6.0f})  ratio {shown / reference:5.2f}x")
        if name != "fetch only":
            goal = name == "edit page"
            record(f"editor {what}", shown, reference, unit="ms", target=f"<= {GOAL_MS:.0f} ms" if goal else "",
                   met=shown <= GOAL_MS if goal else None)  # fmt: skip
    edit = statistics.median(times["edit page"]) if times["edit page"] else float("inf")
    print(f"  goal: edit page interactive <= {GOAL_MS:.0f} ms: {'met' if edit <= GOAL_MS else 'NOT met'}")


if __name__ == "__main__":
    sys.exit(main())
