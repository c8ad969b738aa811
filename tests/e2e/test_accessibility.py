"""Every student, in a real browser: axe-core's WCAG 2.0/2.1 A and AA rules on the page's views, and the
Chinese tour with no English sentence left in the main area.

One browser and one server visit every view in turn (the own-images panel and the class room's teacher
and student views included) (the views are heavy on a shared machine). A violation
of impact "serious" or "critical" fails the test unless it is on ``STREAMLIT_OWN``: markup of Streamlit's
that the app cannot change, named with its rule, its element and why (the README lists them too).
"""
from __future__ import annotations

import re

import pytest

from harness.browser import (HOW_TO_GET_CHROMIUM, canvas_box, chromium_available, chromium_browser, draw_stroke,
                             image_sources, wait_for_change, wait_for_images, wait_for_map_star, wait_until_idle)
from ui.demos import NAMES as DEMOS
from ui.tour import STEPS

pytestmark = [pytest.mark.e2e, pytest.mark.slow,
              pytest.mark.skipif(not chromium_available(), reason=HOW_TO_GET_CHROMIUM)]

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# (rule id, a fragment of the element's selector or markup) -> why the app cannot fix it
STREAMLIT_OWN: dict[tuple[str, str], str] = {
    ("scrollable-region-focusable", 'data-testid="stSidebarContent"'):
        "the collapsed sidebar's content box (presentation mode collapses it) scrolls but holds nothing focusable "
        "while collapsed; Streamlit renders it, and its toggle button opens it by keyboard",
}


def _serious(page, view: str) -> list[str]:
    """The serious and critical violations on the page as it is now, outside STREAMLIT_OWN, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    response = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}}).response
    found = []
    for violation in response["violations"]:
        if violation["impact"] not in ("serious", "critical"):
            continue
        for node in violation["nodes"]:
            target = " ".join(map(str, node["target"]))
            if any(rule == violation["id"] and (where in target or where in node["html"])
                   for rule, where in STREAMLIT_OWN):
                continue
            found.append(f"{view}: {violation['id']} ({violation['impact']}) at {target}: "
                         f"{node['failureSummary'][:200]}")
    return found


def _open(page, url: str, ladder_images: int) -> None:
    page.goto(url)
    wait_for_images(page, "reconstructions", ladder_images)
    wait_until_idle(page)


def test_axe_finds_no_serious_violation_on_any_view(app_url, ladder_images):
    problems: list[str] = []
    with chromium_browser() as browser:
        page = browser.new_page(viewport={"width": 1600, "height": 1200})
        _open(page, app_url, ladder_images)
        problems += _serious(page, "default page")

        first = image_sources(page, "reconstructions")
        draw_stroke(page, canvas_box(page), [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)])
        wait_for_change(page, "reconstructions", first)
        wait_for_map_star(page, "Drawing")
        wait_until_idle(page)
        problems += _serious(page, "after a drawing")

        _open(page, f"{app_url}/?tour=1", ladder_images)
        for number in range(1, len(STEPS) + 1):   # network and features open on their steps
            if number > 1:
                page.evaluate("() => document.activeElement && document.activeElement.blur()")
                page.keyboard.press("ArrowRight")   # the tour's own key (the sidebar covers the bar's left end)
                page.wait_for_function(f"() => location.search.includes('tour={number}')", timeout=30_000)
                wait_until_idle(page)
            problems += _serious(page, f"tour step {number}")

        _open(page, f"{app_url}/?present=1", ladder_images)
        problems += _serious(page, "presentation mode")
        for name in DEMOS:
            _open(page, f"{app_url}/?demo={name}", ladder_images)
            page.locator(f".st-key-{name}").scroll_into_view_if_needed()
            wait_until_idle(page)
            problems += _serious(page, f"demo {name}")

        page.goto(f"{app_url}/?dataset=own")   # the own-images panel
        page.locator(".st-key-own_data").wait_for(timeout=120_000)
        wait_until_idle(page)
        problems += _serious(page, "own images panel")

        _open(page, app_url, ladder_images)    # the class room: the teacher's view, then a student's
        page.locator(".st-key-room_start").get_by_role("button").click(timeout=120_000)
        page.wait_for_url(re.compile(r"room=[A-Z0-9]{4}&key="), timeout=60_000)
        page.locator(".st-key-room_invite").wait_for(timeout=60_000)
        wait_until_idle(page)
        problems += _serious(page, "class room, teacher")
        code = re.search(r"room=([A-Z0-9]{4})", page.url).group(1)
        student = browser.new_page(viewport={"width": 1400, "height": 1100})
        student.goto(f"{app_url}/?room={code}")
        student.locator(".st-key-room_member").wait_for(timeout=120_000)
        wait_until_idle(student)
        problems += _serious(student, "class room, student")

        phone = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True).new_page()
        _open(phone, app_url, ladder_images)
        problems += _serious(phone, "phone 390×844")
    assert not problems, "\n".join(problems)


# Names of things and units that stay as they are in Chinese text (formulas, model names, units, file types).
TECHNICAL = re.compile(r"\b(PCA|UMAP|VAE|MNIST|Fashion-MNIST|SSE|PSNR|dB|PNG|JPEG|GIF|BMP|WebP|TIFF|CSV|ZIP|z|x|y|"
                       r"h\(x\)|N\(0, I\)|ms|README|KL|UFLDL|GELU|sigmoid|Autoencoder Lab)\b")
# an English sentence: three or more Latin words in a row, once the named technical terms are gone
ENGLISH = re.compile(r"[A-Za-z][a-z]+(?:[ ,'-]+[A-Za-z][a-z]+){2,}")
# Labels that Streamlit, Plotly and the drawing canvas (streamlit-drawable-canvas) write into the main area, not
# the app: a heading's anchor, a widget's help and shortcut, the uploader's and a picker's buttons, a picture's
# full-screen button, Plotly's mode bar, the canvas's send button. What follows "Help for " or "Fullscreen: " is
# the app's (a widget's label, a picture's alt text) and is checked.
NOT_THE_APPS = re.compile(r"^(Link to heading|Help|Shortcut .|file upload|Open|Download plot as a PNG|Zoom|Pan|"
                          r"Zoom in|Zoom out|Autoscale|Reset axes|Fullscreen|\w+ icon|"
                          r"Update the app with this drawing)$")
STREAMLIT_PREFIX = re.compile(r"^(Help for |Fullscreen: )")

# Every visible text of the main area, and every alt text and aria-label there, each with the keys of the
# containers it sits in (outermost first); a Material icon's name (the icon font's ligature) and Plotly's mode
# bar are no text of the app's.
_MAIN_TEXTS = """() => {
  const main = document.querySelector('[data-testid=stMain]');
  const keys = (e) => { const found = [];
    for (; e && e !== main; e = e.parentElement || (e.getRootNode() && e.getRootNode().host)) {
      const key = [...e.classList].find(c => c.startsWith('st-key-')); if (key) found.unshift(key.slice(7)); }
    return found; };
  const foreign = (e) => e.closest('[data-testid=stIconMaterial], .modebar');
  const texts = [];
  const read = (root) => {   // the page, and each component's shadow root in it
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const e = node.parentElement, text = node.textContent.trim();
      if (text && e && e.checkVisibility() && !foreign(e) && e.tagName !== 'STYLE' && e.tagName !== 'SCRIPT')
        texts.push({keys: keys(e), text, attribute: false});
    }
    for (const e of root.querySelectorAll('[alt], [aria-label]')) {
      const text = (e.getAttribute('alt') || e.getAttribute('aria-label') || '').trim();
      if (text && !foreign(e)) texts.push({keys: keys(e), text, attribute: true});
    }
    for (const e of root.querySelectorAll('*')) if (e.shadowRoot) read(e.shadowRoot);
  };
  read(main);
  return texts; }"""


def _english_left(texts: list[dict]) -> list[str]:
    """Each text of ``_MAIN_TEXTS`` that still holds an English word, but for the named technical terms and
    the labels Streamlit, Plotly and the canvas write themselves: "container>keys: [words] in 'text'"."""
    left = []
    for found in texts:
        text = found["text"]
        if found["attribute"] and NOT_THE_APPS.match(text):
            continue
        english = ENGLISH.findall(TECHNICAL.sub(" ", STREAMLIT_PREFIX.sub("", text)))
        if english:
            left.append(f"{'>'.join(found['keys'])}: {english} in {text[:80]!r}")
    return left


def test_the_chinese_tour_leaves_no_english_sentence_in_the_main_area(app_url, ladder_images):
    """``?lang=zh&tour=1``: the whole main area (the tour's panel, the inputs, the ladder, the maps, the charts,
    the network, the demos and every section's title and text, their pictures' alt texts) is in Chinese, but for
    the named technical terms and Streamlit's, Plotly's and the canvas's own labels."""
    with chromium_browser() as browser:
        page = browser.new_page(viewport={"width": 1600, "height": 1200})
        _open(page, f"{app_url}/?lang=zh&tour=1", ladder_images)
        page.locator(".st-key-error_chart .js-plotly-plot").wait_for(timeout=60_000)
        texts = page.evaluate(_MAIN_TEXTS)
        panel = page.inner_text(".st-key-tour")
    left = _english_left(texts)
    assert len(texts) > 100 and not left, "\n".join(left)
    assert "导览" in panel and "自编码器" in panel


# a sentence each demo says once open, in Chinese: the check reads the opened demo, not only its title
SAID = {"learn_live": "一个小型全连接自编码器", "denoise": "随附的前", "anomaly": "更不寻常", "generate": "墨迹强度",
        "arithmetic": "你当前输入"}


def test_every_demo_opened_in_chinese_leaves_no_english_sentence(app_url, ladder_images):
    """``?lang=zh&demo=<name>``: each demo's texts, its charts' titles and legends, its pictures' alt texts and its
    charts' numbers as text are in Chinese, but for the named technical terms and Streamlit's and Plotly's labels."""
    left = []
    with chromium_browser() as browser:
        page = browser.new_page(viewport={"width": 1600, "height": 1200})
        for name in DEMOS:
            _open(page, f"{app_url}/?lang=zh&demo={name}", ladder_images)
            page.locator(f".st-key-{name} [data-testid=stExpanderDetails]").wait_for(timeout=60_000)
            wait_until_idle(page)
            texts = [t for t in page.evaluate(_MAIN_TEXTS) if name in t["keys"]]
            assert any(SAID[name] in t["text"] for t in texts), (name, [t["text"][:40] for t in texts])
            left += _english_left(texts)
    assert not left, "\n".join(left)


# What the focused element is and whether its focus shows (an outline or a ring drawn as a box shadow).
_FOCUSED = """() => { let e = document.activeElement; if (!e || e === document.body) return null;
  while (e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;   // into a component
  const style = getComputedStyle(e);
  const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 1) || style.boxShadow !== 'none';
  const keyed = e.closest('[class*="st-key-"]');
  const key = keyed ? [...keyed.classList].find(c => c.startsWith('st-key-')).slice(7) : '';
  return {key, tag: e.tagName, role: e.getAttribute('role') || '', sidebar: !!e.closest('[data-testid=stSidebar]'),
          label: (e.getAttribute('aria-label') || e.innerText || '').slice(0, 40), ring}; }"""


def test_the_keyboard_walks_the_sidebar_and_the_tour(app_url, ladder_images):
    with chromium_browser() as browser:
        page = browser.new_page(viewport={"width": 1600, "height": 1200})
        _open(page, f"{app_url}/?tour=1", ladder_images)
        # the walk starts at the page's first stop (a fresh page's own starting point moves as the tour scrolls)
        page.get_by_text("Skip to main content").focus()
        walked = [page.evaluate(_FOCUSED)]
        for _ in range(80):   # Tab only
            page.keyboard.press("Tab")
            focused = page.evaluate(_FOCUSED)
            if focused is not None:
                walked.append(focused)
            if focused and focused["key"] == "tour_next":
                break
        keys = [f["key"] for f in walked]
        assert {"language", "dataset", "family", "present_mode"} <= set(keys), keys
        assert "tour_next" in keys, keys
        unseen = [f for f in walked if not f["ring"]]
        assert not unseen, f"focus not visible on {unseen}"
        # Streamlit's "Skip to main content" first, then the sidebar's controls, then the page's own
        assert walked[0]["label"] == "Skip to main content" and walked[1]["sidebar"]
        first_main = next(i for i, f in enumerate(walked) if i > 0 and not f["sidebar"])
        assert all(f["sidebar"] for f in walked[1:first_main]) and keys.index("tour_next") > first_main
        page.keyboard.press("Enter")   # Next, reached by Tab
        page.wait_for_function("() => location.search.includes('tour=2')", timeout=30_000)
        wait_until_idle(page)
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.keyboard.press("ArrowLeft")   # the tour's own keys
        page.wait_for_function("() => location.search.includes('tour=1')", timeout=30_000)
        wait_until_idle(page)
        # a radio group moves with the arrow keys: the sidebar's dataset
        page.locator(".st-key-dataset input").first.focus()
        page.keyboard.press("ArrowDown")
        page.wait_for_function("() => location.search.includes('dataset=fashion')", timeout=30_000)


# How far the page, or any block of it, scrolls sideways (px): nothing may but a map (WCAG 1.4.10 exempts
# two-dimensional pictures); a visually hidden control (clipped to 1 px) makes no scrolling and is no overflow.
_OVERFLOW = """() => { const over = [];
  for (const e of [document.scrollingElement, ...document.querySelectorAll('[data-testid=stMain] *')]) {
      if (e.closest && e.closest('.ae-map, .js-plotly-plot, .stPlotlyChart')) continue;
      const style = getComputedStyle(e);
      const scrolls = e === document.scrollingElement || ['auto', 'scroll'].includes(style.overflowX);
      if (scrolls && e.scrollWidth > e.clientWidth + 1)
          over.push((e.getAttribute('data-testid') || e.className || e.tagName).toString().slice(0, 60)
                    + ': ' + (e.scrollWidth - e.clientWidth) + ' px');
  }
  return over; }"""


@pytest.mark.parametrize("width, height, zoom", [(320, 640, 1), (1280, 800, 2)], ids=["320 px", "200 % zoom"])
def test_nothing_needs_sideways_scrolling(app_url, ladder_images, width, height, zoom):
    with chromium_browser() as browser:
        # 200 % zoom of a 1280 px window is a 640 CSS px viewport with two device pixels to each
        page = browser.new_page(viewport={"width": width // zoom, "height": height // zoom}, device_scale_factor=zoom)
        _open(page, app_url, ladder_images)
        page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
        wait_until_idle(page)
        assert page.evaluate(_OVERFLOW) == []
