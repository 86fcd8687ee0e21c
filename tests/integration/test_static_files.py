"""Static files (issue 15, weight and speed; docs/performance.md): text
assets precompressed by script/web-precompress and sent as is (gzip_static),
the pages compressed on the fly; the pages' stylesheets, icons and DSFR
script linked under /v/VERSION/ and cached for a year, everything else
revalidated; the security headers on every one of these answers (a location
with an add_header of its own would drop them), and the API never
compressed (BREACH)."""
import gzip
import re
import shutil
import subprocess

import pytest

from conftest import REPO

PRECOMPRESS = REPO / "script" / "web-precompress"
HEADERS = ("X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options",
           "Content-Security-Policy", "Permissions-Policy")
IMMUTABLE = "public, max-age=31536000, immutable"


def precompress(web):
    r = subprocess.run([str(PRECOMPRESS), str(web)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r


def version_of(web):
    m = re.fullmatch(r"set \$portail_asset_version ([0-9a-f]{12});\n",
                     (web / ".portail-version.conf").read_text())
    assert m, (web / ".portail-version.conf").read_text()
    return m.group(1)


@pytest.fixture
def site(stack, tmp_path):
    """The site's own pages, CSS and scripts in a web root of the test's own
    (no DSFR build needed), precompressed, behind a private nginx."""
    web = tmp_path / "web"
    shutil.copytree(REPO / "web", web, symlinks=True,
                    ignore=shutil.ignore_patterns("dsfr", "zxcvbn", "*.gz", ".portail-version.conf",
                                                  ".portail-module-pages"))
    (web / "dsfr").mkdir()
    (web / "dsfr" / "dsfr.min.css").write_text(".fr-btn{color:#000091}\n" * 400)
    (web / "dsfr" / "dsfr.module.min.js").write_text("window.dsfr = {};\n" * 200)
    precompress(web)
    inst = stack.start_portaild(webroot=web)
    return web, stack.client(base_url=inst.base_url, origin=inst.origin)


def raw(c, path, **headers):
    """The answer as sent (no decompression by the client)."""
    r = c.http.get(c.base_url + path, headers={"Accept-Encoding": "gzip", **headers}, stream=True,
                allow_redirects=False, timeout=30)
    r.body = r.raw.read(decode_content=False)
    return r


def test_precompress_is_reproducible_and_follows_the_files(tmp_path):
    web = tmp_path / "web"
    (web / "js").mkdir(parents=True)
    (web / "js" / "a.js").write_text("export const a = 1;\n" * 100)
    (web / "b.css").write_text("p{margin:0}\n" * 100)
    (web / "index.html").write_text("<p>page</p>\n" * 100)
    (web / ".hidden.js").write_text("x\n")
    (web / "favicon.ico").write_bytes(bytes(range(256)) * 8)
    precompress(web)
    assert gzip.decompress((web / "favicon.ico.gz").read_bytes()) == (web / "favicon.ico").read_bytes()
    first = (web / "js" / "a.js.gz").read_bytes()
    assert gzip.decompress(first) == (web / "js" / "a.js").read_bytes()
    assert gzip.decompress((web / "b.css.gz").read_bytes()) == (web / "b.css").read_bytes()
    # Pages are assembled by SSI: never precompressed. Dot files left alone.
    assert not (web / "index.html.gz").exists() and not (web / ".hidden.js.gz").exists()
    v1 = version_of(web)

    # Same input, same bytes (no name nor date inside), same version.
    (web / "js" / "a.js.gz").unlink()
    precompress(web)
    assert (web / "js" / "a.js.gz").read_bytes() == first
    assert version_of(web) == v1

    # An edited asset: a new .gz and a new version; a page edit changes neither.
    (web / "index.html").write_text("<p>autre page</p>\n")
    precompress(web)
    assert version_of(web) == v1
    (web / "js" / "a.js").write_text("export const a = 2;\n" * 100)
    precompress(web)
    assert gzip.decompress((web / "js" / "a.js.gz").read_bytes()) == (web / "js" / "a.js").read_bytes()
    assert version_of(web) != v1

    # A removed asset takes its .gz along.
    (web / "b.css").unlink()
    precompress(web)
    assert not (web / "b.css.gz").exists()


def test_pages_link_versioned_assets_and_are_revalidated(site):
    web, c = site
    v = version_of(web)
    r = raw(c, "/")
    assert r.status_code == 200
    assert r.headers["Content-Encoding"] == "gzip"
    assert r.headers["Cache-Control"] == "no-cache"
    html = gzip.decompress(r.body).decode()
    assert '<link rel="stylesheet" href="/v/%s/dsfr/dsfr.min.css">' % v in html
    assert '<link rel="stylesheet" href="/v/%s/css/portail.css">' % v in html
    assert '<script type="module" src="/v/%s/dsfr/dsfr.module.min.js"></script>' % v in html
    assert 'href="/v/%s/dsfr/favicon/favicon.svg"' % v in html
    assert 'href="/dsfr/' not in html and 'src="/dsfr/' not in html
    # SSI still runs.
    assert "<!--#" not in html and 'id="pied-de-page"' in html


def test_versioned_assets_are_precompressed_and_immutable(site):
    web, c = site
    v = version_of(web)
    for path in ("dsfr/dsfr.min.css", "dsfr/dsfr.module.min.js", "css/portail.css"):
        r = raw(c, "/v/%s/%s" % (v, path))
        assert r.status_code == 200, path
        assert r.headers["Cache-Control"] == IMMUTABLE, path
        assert r.headers["Content-Encoding"] == "gzip", path
        assert "Accept-Encoding" in r.headers.get("Vary", ""), path
        # The very bytes web-precompress wrote (gzip_static), not a new compression.
        assert r.body == (web / (path + ".gz")).read_bytes(), path
    # Any version finds the file (a page of the previous deployment still works).
    assert raw(c, "/v/0/css/portail.css").status_code == 200
    # Without gzip: the file itself.
    r = c.http.get(c.base_url + "/v/%s/css/portail.css" % v, headers={"Accept-Encoding": "identity"},
                timeout=30)
    assert r.status_code == 200 and "Content-Encoding" not in r.headers
    assert r.content == (web / "css" / "portail.css").read_bytes()


def test_versioned_path_serves_only_static_files(site):
    web, c = site
    (web / "css" / "old.css.bak").write_text("SECRET\n")
    for path in ("/v/abc/.portail-version.conf", "/v/abc/.gitignore", "/v/abc/index.html",
                 "/v/abc/css/old.css.bak", "/v/abc/css/.x.css", "/v/abc/nothing.css",
                 "/v/ABC!/css/portail.css", "/v/abc", "/v/"):
        r = raw(c, path)
        assert r.status_code == 404, (path, r.status_code)
        # An error is never kept.
        assert "immutable" not in r.headers.get("Cache-Control", ""), path


def test_unversioned_files_are_revalidated(site):
    web, c = site
    r = raw(c, "/js/ui.js")
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-cache"
    assert r.headers["Content-Encoding"] == "gzip"
    assert r.body == (web / "js" / "ui.js.gz").read_bytes()
    etag = r.headers["ETag"]
    again = raw(c, "/js/ui.js", **{"If-None-Match": etag})
    assert again.status_code == 304 and again.body == b""
    for h in HEADERS:
        assert h in again.headers, h


@pytest.mark.parametrize("path", ["/", "/connexion.html", "/v/{v}/dsfr/dsfr.min.css",
                                  "/v/{v}/css/portail.css", "/css/portail.css", "/js/ui.js",
                                  "/dsfr/dsfr.module.min.js", "/v/{v}/nothing.css",
                                  "/v/{v}/.gitignore", "/nothing.html", "/.portail-version.conf"])
def test_security_headers_on_every_static_answer(site, path):
    web, c = site
    r = raw(c, path.format(v=version_of(web)))
    for h in HEADERS:
        got = [v for k, v in r.raw.headers.items() if k.lower() == h.lower()]
        assert len(got) == 1, (path, r.status_code, h, got)
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert len([v for k, v in r.raw.headers.items() if k.lower() == "cache-control"]) <= 1, path


def test_api_answers_are_never_compressed(site):
    web, c = site
    r = raw(c, "/api/v1/health")
    assert r.status_code == 200
    assert "Content-Encoding" not in r.headers
    # portaild's own Cache-Control only, not doubled by the static one.
    cc = [v for k, v in r.raw.headers.items() if k.lower() == "cache-control"]
    assert len(cc) <= 1 and "immutable" not in "".join(cc) and cc != ["no-cache"], cc


def test_installed_site_is_precompressed_and_versioned(tmp_path):
    """script/install-web (make install) readies the installed copy the same
    way: the module pages it copies from their folders are compressed too."""
    dest = tmp_path / "site"
    r = subprocess.run([str(REPO / "script" / "install-web"), str(REPO), str(dest)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    version_of(dest)
    for js in [dest / "js" / "ui.js", *sorted(dest.glob("*/js/*.js"))[:3]]:
        assert gzip.decompress((js.parent / (js.name + ".gz")).read_bytes()) == js.read_bytes(), js
    if (REPO / "web" / "dsfr").is_dir() or (REPO / "node_modules" / "@gouvfr").is_dir():
        css = dest / "dsfr" / "dsfr.min.css"
        assert gzip.decompress((dest / "dsfr" / "dsfr.min.css.gz").read_bytes()) == css.read_bytes()
    assert not list(dest.rglob(".gitignore"))


def test_every_page_links_its_assets_as_nginx_rewrites_them():
    """nginx's sub_filter matches literal text: a stylesheet, icon or DSFR
    script linked another way (attributes in another order, a relative
    address) would go unversioned, and so be asked for again each time."""
    pages = [p for p in (REPO / "web").rglob("*.html")
             if not (p.parent / ".portail-module-pages").exists()
             and "dsfr" not in p.relative_to(REPO / "web").parts]
    pages += list(REPO.glob("modules/*/web/**/*.html"))
    assert pages
    wanted = re.compile(r'<link rel="(?:stylesheet|icon|shortcut icon)" href="/|'
                        r'<script type="module" src="/dsfr/')
    for p in pages:
        text = p.read_text()
        for tag in re.findall(r"<link\b[^>]*>", text):
            if re.search(r'rel="(?:stylesheet|icon|shortcut icon)"', tag):
                assert wanted.match(tag), (p, tag)
        for tag in re.findall(r"<script\b[^>]*dsfr[^>]*>", text):
            assert wanted.match(tag), (p, tag)
