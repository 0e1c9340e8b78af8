"""Technographics: Wappalyzer-format fingerprints loaded from a path, and detection on a page.

Most tests write their own tiny fingerprint files into ``tmp_path``. The tests marked as using
the real set read the GPL-3.0 webappanalyzer fingerprints from ``../shared/data`` (never copied
into the project) and skip when they are absent; they also read the hand-made pages of
``eval/pages``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from icpkit.enrich import fingerprints as fingerprints_module
from icpkit.enrich import technographics as technographics_module
from icpkit.enrich.fingerprints import bounded, load_fingerprints, parse_selector, required_factors
from icpkit.enrich.technographics import Page, detect, resolve_version, scan
from icpkit.errors import DataError

REPO = Path(__file__).resolve().parents[2]
REAL = REPO.parent / "shared" / "data" / "webappanalyzer_technologies"
PAGES = REPO / "eval" / "pages"
CATEGORIES = {"1": {"name": "CMS", "priority": 1}, "2": {"name": "Analytics", "priority": 2},
              "3": {"name": "Programming languages", "priority": 3}, "4": {"name": "Databases", "priority": 4}}


def write_set(folder: Path, technologies: dict, categories: dict | None = None) -> Path:
    """A fingerprint folder in the webappanalyzer layout, with ``technologies`` in one file."""
    (folder / "technologies").mkdir(parents=True)
    (folder / "technologies" / "a.json").write_text(json.dumps(technologies), encoding="utf-8")
    (folder / "categories.json").write_text(json.dumps(categories or CATEGORIES), encoding="utf-8")
    return folder


def found(fp, page: Page) -> dict:
    return {d.name: d for d in detect(fp, page)}


def page(html: str = "", headers: tuple = (), cookies: dict | None = None, url: str = "https://acme.example/") -> Page:
    return Page(url, headers, cookies or {}, html)


# ---------------------------------------------------------------------------------------------
# Matching, on fingerprints written here


def test_versions_come_from_the_template_including_ternaries(tmp_path: Path) -> None:
    fp = load_fingerprints(write_set(tmp_path, {
        "Acmejs": {"cats": [2], "scriptSrc": ["acme-([\\d.]+)(?:\\.min)?\\.js\\;version:\\1"]},
        "Edition": {"cats": [1], "html": ["skin/(?:default|(pro))/\\;version:\\1?Pro:Community"]},
        "Stamp": {"cats": [2], "meta": {"build": "^(\\d+)$\\;version:\\1"}},
    }))
    result = found(fp, page('<script src="/js/acme-2.3.1.min.js"></script><link href="/skin/default/x.css">'
                            '<meta name="build" content="20231206">'))
    assert result["Acmejs"].version == "2.3.1"
    assert result["Edition"].version == "Community"
    assert result["Stamp"].version is None  # a timestamp is not a version (Wappalyzer's rule)
    assert found(fp, page('<link href="/skin/pro/x.css">'))["Edition"].version == "Pro"


def test_resolve_version_ignores_long_groups_and_unmatched_references() -> None:
    m = re.search(r"v(\d+)(x)?", "v12")
    assert resolve_version("\\1", m) == "12"
    assert resolve_version("\\2?beta:stable", m) == "stable"
    assert resolve_version("\\1.\\2", m) == "12."
    assert resolve_version("\\1", re.search(r"v(\w+)", "v" + "a" * 20)) == ""


def test_confidence_is_summed_per_technology_and_capped_at_100(tmp_path: Path) -> None:
    fp = load_fingerprints(write_set(tmp_path, {
        "Half": {"cats": [2], "html": ["half-marker\\;confidence:50"]},
        "Twice": {"cats": [2], "html": ["first-mark\\;confidence:60", "second-mark\\;confidence:60"]},
    }))
    result = found(fp, page("<p>half-marker first-mark second-mark</p>"))
    assert result["Half"].confidence == 50
    assert result["Twice"].confidence == 100
    assert found(fp, page("<p>first-mark</p>"))["Twice"].confidence == 60


def test_implies_are_followed_transitively_with_their_own_confidence(tmp_path: Path) -> None:
    fp = load_fingerprints(write_set(tmp_path, {
        "Blogware": {"cats": [1], "meta": {"generator": "^Blogware"}, "implies": ["Phpish"]},
        "Phpish": {"cats": [3], "implies": ["Sqlish\\;confidence:40", "Cacheish\\;version:2"]},
        "Sqlish": {"cats": [4]},
        "Cacheish": {"cats": [4]},
    }))
    result = found(fp, page('<meta name="generator" content="Blogware 5">'))
    assert set(result) == {"Blogware", "Phpish", "Sqlish", "Cacheish"}
    assert result["Phpish"].evidence == "implied by Blogware"
    assert result["Sqlish"].confidence == 40
    assert result["Cacheish"].version == "2"
    assert result["Sqlish"].categories == ("Databases",)


def test_excludes_drop_the_technology_another_one_rules_out(tmp_path: Path) -> None:
    fp = load_fingerprints(write_set(tmp_path, {
        "NewFramework": {"cats": [1], "html": ["ng-app"], "excludes": ["OldFramework"]},
        "OldFramework": {"cats": [1], "html": ["ng-app"]},
        "Plugin": {"cats": [1], "html": ["plug"], "implies": ["OldFramework"]},
    }))
    assert set(found(fp, page('<div ng-app="x">'))) == {"NewFramework"}
    assert set(found(fp, page('<div ng-app="x" plug>'))) == {"NewFramework", "Plugin"}  # not implied back in


def test_requires_and_requires_category_gate_a_technology(tmp_path: Path) -> None:
    fp = load_fingerprints(write_set(tmp_path, {
        "Blogware": {"cats": [1], "meta": {"generator": "^Blogware"}},
        "Shopware": {"cats": [1], "html": ["shop-cart"]},
        "Theme": {"cats": [1], "html": ["theme-x"], "requires": ["Blogware"]},
        "Both": {"cats": [1], "html": ["theme-x"], "requires": ["Blogware", "Shopware"]},
        "AnyCms": {"cats": [2], "html": ["theme-x"], "requiresCategory": [1]},
    }))
    assert found(fp, page('<p class="theme-x">')) == {}
    with_blog = found(fp, page('<meta name="generator" content="Blogware"><p class="theme-x">'))
    assert set(with_blog) == {"Blogware", "Theme", "AnyCms"}  # Both needs Shopware as well
    assert "Both" in found(fp, page('<meta name="generator" content="Blogware"><p class="theme-x shop-cart">'))


def test_headers_cookies_meta_script_sources_and_other_fields(tmp_path: Path) -> None:
    fp = load_fingerprints(write_set(tmp_path, {
        "Srv": {"cats": [1], "headers": {"Server": "^srv/?([\\d.]+)?\\;version:\\1"}},
        "Hsts": {"cats": [1], "headers": {"Strict-Transport-Security": ""}},
        "Tracker": {"cats": [2], "cookies": {"_trk_*": ""}},
        "Session": {"cats": [3], "cookies": {"SESSID": ""}},
        "Gen": {"cats": [1], "meta": {"og:site_name": "Acme"}},
        "Cdn": {"cats": [1], "scriptSrc": ["^https://cdn\\.acme\\.example/"]},
        "Inline": {"cats": [2], "scripts": ["acmeTrack\\("]},
        "Styled": {"cats": [1], "css": ["--acme-color"]},
        "Said": {"cats": [1], "text": ["\\bPowered by Acme\\b"]},
        "Place": {"cats": [1], "url": ["\\.acme\\.example/"]},
    }))
    result = found(fp, page(
        '<meta property="og:site_name" content="Acme Corp"><script src="//cdn.acme.example/a.js"></script>'
        "<script>acmeTrack('x')</script><style>:root{--acme-color:red}</style><p>Powered by Acme</p>",
        headers=(("Server", "srv/1.2"), ("strict-transport-security", "max-age=1"), ("set-cookie", "SESSID=1; Path=/")),
        cookies={"_trk_123": "x"}, url="https://www.acme.example/home"))
    assert set(result) == {"Srv", "Hsts", "Tracker", "Session", "Gen", "Cdn", "Inline", "Styled", "Said", "Place"}
    assert result["Srv"].version == "1.2"
    assert result["Cdn"].evidence.startswith("scriptSrc: ")  # the relative src was made absolute
    assert result["Srv"].evidence.startswith("headers[server]")
    # a script source is not inline script text, and text inside <script> is not visible text
    quiet = found(fp, page('<script src="/acmeTrack(.js"></script><script>var s = "Powered by Acme";</script>'))
    assert "Inline" not in quiet and "Said" not in quiet


def test_dom_selectors_are_checked_on_the_start_tags(tmp_path: Path) -> None:
    fp = load_fingerprints(write_set(tmp_path, {
        "Og": {"cats": [1], "dom": ["meta[property*='og:']"]},
        "Ngish": {"cats": [1], "dom": {"[ng-version]": {"attributes": {"ng-version": "^([\\d.]+)\\;version:\\1"}}}},
        "Widget": {"cats": [1], "dom": ["div.acme-widget#main, iframe[src*='acme.example']"]},
        "Deep": {"cats": [1], "dom": ["footer > a[href*='acme']", "p:first-child"]},  # not supported: left out
    }))
    result = found(fp, page('<meta property="og:title" content="x"><app-root ng-version="17.3.5"></app-root>'
                            '<div id="main" class="x acme-widget"></div><footer><a href="/acme">a</a></footer>'))
    assert set(result) == {"Og", "Ngish", "Widget"}
    assert result["Ngish"].version == "17.3.5"
    assert "Widget" not in found(fp, page('<div class="acme-widget"></div>'))  # needs #main too


def test_a_regex_python_cannot_compile_is_skipped_and_counted(tmp_path: Path) -> None:
    fp = load_fingerprints(write_set(tmp_path, {
        "JsOnly": {"cats": [1], "html": ["acme[^]*end", "(?<tag>acme-ok)"]},
        "Fine": {"cats": [1], "html": ["acme-ok"]},
    }))
    result = found(fp, page("<p>acme-ok ... end</p>"))
    assert set(result) == {"Fine"}
    skipped = fp.invalid_patterns()
    assert [(s.technology, s.field) for s in skipped] == [("JsOnly", "html"), ("JsOnly", "html")]
    assert fp.compile_all() == 2


@pytest.mark.parametrize(("entry", "key"), [
    ({"cats": "1"}, "cats"),
    ({"cats": [1], "headers": ["Server"]}, "headers"),
    ({"cats": [1], "meta": {"generator": 5}}, "meta.generator"),
    ({"cats": [1], "html": ["x\\;confidence:high"]}, "html"),
    ({"cats": [1], "implies": ["Nowhere"]}, "implies"),
    ({"cats": [99]}, "cats"),
    ({"cats": [1], "dom": {"div.x": "yes"}}, "dom.div.x"),
])
def test_a_malformed_entry_names_its_file_technology_and_key(tmp_path: Path, entry: dict, key: str) -> None:
    folder = write_set(tmp_path, {"Good": {"cats": [1], "html": ["ok"]}, "Broken Tech": entry})
    with pytest.raises(DataError) as info:
        load_fingerprints(folder)
    where = info.value.where
    assert "a.json" in where and "'Broken Tech'" in where and f"'{key}'" in where


def test_a_file_that_is_not_json_names_the_file_and_line(tmp_path: Path) -> None:
    folder = write_set(tmp_path, {"Good": {"cats": [1]}})
    (folder / "technologies" / "b.json").write_text('{"Bad": {"cats": [1],}\n}', encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_fingerprints(folder)
    assert "b.json" in info.value.where and "line 1" in info.value.where
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no technologies"):
        load_fingerprints(tmp_path / "empty")
    with pytest.raises(DataError, match="no such"):
        load_fingerprints(tmp_path / "missing")


def test_a_single_file_with_its_categories_inside_loads(tmp_path: Path) -> None:
    path = tmp_path / "technologies.json"
    path.write_text(json.dumps({"categories": CATEGORIES, "technologies": {"Gen": {"cats": [1], "html": ["gen"]}}}))
    fp = load_fingerprints(path)
    assert len(fp) == 1 and fp.categories[1] == "CMS"
    assert set(found(fp, page("<p>gen</p>"))) == {"Gen"}


def test_page_from_a_fetch_result_of_any_shape() -> None:
    class Fetched:
        url = "https://acme.example/"
        final_url = "https://www.acme.example/home"
        status = 200
        headers = (("Server", "nginx"),)
        cookies = {"a": "1"}
        text = "<p>hi</p>"

    p = Page.from_fetched(Fetched())
    assert p.url == "https://www.acme.example/home" and p.headers == (("server", "nginx"),)
    assert dict(p.cookies) == {"a": "1"} and p.html == "<p>hi</p>"


def test_bounded_quantifiers_and_required_factors() -> None:
    assert bounded(r"a+b*c{2,}\+[+*]") == r"a{1,250}b{0,250}c{2,250}\+[+*]"
    assert required_factors(bounded(r"<link[^>]+/wp-(?:content|includes)/"))[0] == ("content", "includes")
    assert required_factors(r"(?:jquery|zepto)\.js")[0] == ("jquery", "zepto")
    assert required_factors(r"ab?cd") == (("cd",), ("a",))
    assert required_factors(r"(?=lookahead)x") == (("x",),)
    assert required_factors(r"a|") == ()  # one branch needs no text at all
    assert required_factors(r"(?x) a b") == ()  # verbose mode: literals are not literal
    assert parse_selector("a > b") == () and len(parse_selector("a[href], #x.y")) == 2


def test_a_long_page_gives_the_same_answer_as_a_plain_search(tmp_path: Path) -> None:
    """The windows around required texts and the word index change nothing but the time."""
    fp = load_fingerprints(write_set(tmp_path, {
        "Far": {"cats": [1], "html": ["data-far=\"(\\d+)\"\\;version:\\1"]},
        "Anchored": {"cats": [1], "html": ["acme-end$"]},
        "Absent": {"cats": [1], "html": ["never-there"]},
    }))
    filler = "<p>" + "lorem ipsum dolor sit amet " * 4000 + "</p>"
    html = filler + '<div data-far="42"></div>' + filler + "acme-end"
    result = found(fp, page(html))
    assert set(result) == {"Far", "Anchored"} and result["Far"].version == "42"
    assert "Anchored" not in found(fp, page(html + " "))


# ---------------------------------------------------------------------------------------------
# With the real fingerprint set (skipped when ../shared/data is absent)

needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="the webappanalyzer fingerprints are not in ../shared/data")


@pytest.fixture(scope="module")
def real():
    return load_fingerprints(REAL)


def eval_page(name: str) -> Page:
    entry = json.loads((PAGES / "labels.json").read_text(encoding="utf-8"))["pages"][name]
    headers = tuple(entry["headers"]) + tuple(("set-cookie", f"{k}={v}; Path=/") for k, v in entry["cookies"].items())
    return Page(f"http://127.0.0.1:8000/{name}", headers, {}, (PAGES / name).read_text(encoding="utf-8"))


@needs_real
def test_the_full_set_loads_and_every_pattern_compiles() -> None:
    fp = load_fingerprints(REAL)
    assert len(fp) == 7586
    assert fp.compile_all() == 0


@needs_real
@pytest.mark.parametrize(("name", "expected"), [
    ("01-acme-analytics.html", {"WordPress": "6.4.2", "jQuery": None, "Yoast SEO": None, "Nginx": None,
                                "PHP": "8.2.13", "HSTS": None, "Google Tag Manager": None, "HubSpot": None}),
    ("05-evergreen-supply-co.html", {"Shopify": None, "Cloudflare": None, "Facebook Pixel": None}),
    ("12-lumen-health-it.html", {"Angular": "17.3.5", "Nginx": "1.24.0"}),
    ("13-meridian-freight.html", {"IIS": "10.0", "Microsoft ASP.NET": None, "Bootstrap": None}),
    ("15-orbit-payments.html", {"Apache HTTP Server": "2.4.41", "PHP": "7.4.3", "reCAPTCHA": None}),
])
def test_saved_pages_show_their_technologies(real, name: str, expected: dict) -> None:
    result = found(real, eval_page(name))
    for tech, version in expected.items():
        assert tech in result, f"{tech} not found on {name}: {sorted(result)}"
        if version:
            assert result[tech].version == version


@needs_real
@pytest.mark.parametrize("name", ["27-plain-brochure.html", "28-plain-contact.html", "29-plain-under-construction.html",
                                  "30-plain-careers.html"])
def test_plain_pages_show_nothing(real, name: str) -> None:
    assert found(real, eval_page(name)) == {}


@needs_real
@pytest.mark.slow
def test_the_shortcuts_change_no_answer_on_the_saved_pages(monkeypatch) -> None:
    """An oracle: with the literal prefilter, the windows, the pieces and the word index turned
    off (every regex run once on the whole text), each saved page, alone and padded past the
    window size, gives the same detections."""
    names = sorted(p.name for p in PAGES.glob("*.html"))
    filler = "<p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 150 + "</p>"
    pages = [eval_page(n) for n in names]
    pages += [Page(p.url, p.headers, p.cookies, filler + p.html + filler) for p in pages]

    def answer(fp) -> list:
        return [[(d.name, d.version, d.confidence) for d in detect(fp, p, time_budget_s=60)] for p in pages]

    fast = answer(load_fingerprints(REAL))
    monkeypatch.setattr(fingerprints_module.Pattern, "factors", property(lambda self: ()))
    monkeypatch.setattr(technographics_module._Haystack, "contains", lambda self, needle: needle in self.low)
    monkeypatch.setattr(technographics_module, "CHUNK", 10**9)
    assert answer(load_fingerprints(REAL)) == fast


@needs_real
@pytest.mark.parametrize("text", ["a" * 1_000_000, "<" * 1_000_000, "/" * 1_000_000, "<a " * 333_333,
                                  '<div class="x" ' * 66_666, "<script>" + "<" * 1_000_000])
def test_a_hostile_megabyte_is_scanned_quickly_and_completely(real, text: str) -> None:
    detect(real, page("<p>warm</p>"))  # the first page compiles what it needs
    result = scan(real, page(text))
    assert result.complete
    assert result.seconds < 5.0  # about 0.4 s measured; the budget (2 s) is not what stops it


@needs_real
def test_a_page_built_to_backtrack_is_stopped_by_the_time_budget(real) -> None:
    detect(real, page("<p>warm</p>"))
    unit = "<" * 3000 + '> class="x" id="y" data-v-1 wire: contentful.com fassets.net x-data data-controller '
    result = scan(real, page(unit * (1_000_000 // len(unit))), time_budget_s=1.0)
    assert not result.complete and result.searches_skipped > 0
    assert result.seconds < 4.0  # 30-40 s without the budget
