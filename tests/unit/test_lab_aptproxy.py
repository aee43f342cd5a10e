"""The guests' apt proxy: what it forwards, refuses and caches (no network: upstream is faked)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from nordkube.lab import aptproxy
from nordkube.lab.aptproxy import Request, cache_path, read_request, refusal, serve


def request(
    method: str = "GET", host: str = "deb.debian.org", path: str = "/x", **headers: str
) -> Request:
    return Request(method, host, path, list(headers.items()), keep_alive=True)


def test_reads_pipelined_requests_in_order() -> None:
    stream = io.BytesIO(
        b"GET http://deb.debian.org/debian/dists/bookworm/InRelease HTTP/1.1\r\n"
        b"Host: deb.debian.org\r\n\r\n"
        b"HEAD http://Deb.Debian.org/debian/pool/a.deb HTTP/1.1\r\nConnection: close\r\n\r\n"
    )
    first, second = read_request(stream), read_request(stream)
    assert first == Request(
        "GET",
        "deb.debian.org",
        "/debian/dists/bookworm/InRelease",
        [("Host", "deb.debian.org")],
        True,
    )
    assert second is not None and (second.method, second.host, second.keep_alive) == (
        "HEAD",
        "deb.debian.org",
        False,
    )
    assert read_request(stream) is None


@pytest.mark.parametrize("host", ["deb.debian.org", "security.debian.org"])
def test_debian_mirrors_are_allowed(host: str) -> None:
    assert refusal(request(host=host)) is None


@pytest.mark.parametrize("host", ["example.com", "pkgs.k8s.io", "10.0.2.2", "127.0.0.1", ""])
def test_every_other_host_is_refused(host: str) -> None:
    assert refusal(request(host=host)) == (
        403,
        "the lab's guests may reach only deb.debian.org, security.debian.org",
    )


def test_only_get_and_head_are_forwarded() -> None:
    refused = refusal(request(method="CONNECT"))
    assert refused is not None and refused[0] == 405


@pytest.mark.parametrize(
    "path",
    [
        "/debian/pool/main/s/socat/socat_1.7.4.4-2_amd64.deb",
        "/debian/dists/bookworm/main/binary-amd64/by-hash/SHA256/ab12",
    ],
)
def test_immutable_files_are_cached_under_their_url(tmp_path: Path, path: str) -> None:
    assert cache_path(tmp_path, request(path=path)) == tmp_path / "deb.debian.org" / path.lstrip(
        "/"
    )


@pytest.mark.parametrize(
    "candidate",
    [
        request(path="/debian/dists/bookworm/InRelease"),
        request(path="/debian/pool/../../etc/passwd.deb"),
        request(path="/debian/pool/a.deb?x=1"),
        request(method="HEAD", path="/debian/pool/a.deb"),
        request(path="/debian/pool/a.deb", Range="bytes=10-"),
    ],
)
def test_what_may_change_or_is_partial_is_not_cached(tmp_path: Path, candidate: Request) -> None:
    assert cache_path(tmp_path, candidate) is None


class FakeResponse(io.BytesIO):
    def __init__(self, body: bytes) -> None:
        super().__init__(body)
        self.status, self.reason = 200, "OK"
        self.headers = [("Content-Length", str(len(body))), ("Connection", "keep-alive")]

    def getheaders(self) -> list[tuple[str, str]]:
        return self.headers

    def getheader(self, name: str) -> str | None:
        return dict(self.headers).get(name)


def test_a_package_is_fetched_once_then_served_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetched: list[str] = []

    def fake_fetch(self: aptproxy.Upstream, forwarded: Request) -> FakeResponse:
        fetched.append(forwarded.path)
        return FakeResponse(b"package bytes")

    monkeypatch.setattr(aptproxy.Upstream, "fetch", fake_fetch)
    get = b"GET http://deb.debian.org/debian/pool/main/a/a_1_amd64.deb HTTP/1.1\r\n\r\n"
    for _ in range(2):
        out = io.BytesIO()
        serve(io.BytesIO(get), out, tmp_path, io.BytesIO())
        head, _, body = out.getvalue().partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK") and b"Connection" not in head
        assert body == b"package bytes"
    assert fetched == ["/debian/pool/main/a/a_1_amd64.deb"]


def test_a_refused_request_gets_an_explanation() -> None:
    out = io.BytesIO()
    serve(
        io.BytesIO(b"GET http://example.com/ HTTP/1.1\r\n\r\n"),
        out,
        Path("/nonexistent"),
        io.BytesIO(),
    )
    assert out.getvalue().startswith(b"HTTP/1.1 403 Refused")
    assert b"may reach only deb.debian.org" in out.getvalue()


def test_a_request_that_is_not_http_ends_the_connection() -> None:
    out = io.BytesIO()
    serve(io.BytesIO(b"SSH-2.0-OpenSSH\r\n"), out, Path("/nonexistent"), io.BytesIO())
    assert out.getvalue().startswith(b"HTTP/1.1 400 Bad Request")


def test_an_unreachable_mirror_is_a_bad_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(self: aptproxy.Upstream, forwarded: Request) -> FakeResponse:
        raise ConnectionRefusedError("refused")

    monkeypatch.setattr(aptproxy.Upstream, "fetch", unreachable)
    out = io.BytesIO()
    get = b"GET http://deb.debian.org/debian/dists/bookworm/InRelease HTTP/1.1\r\n\r\n"
    serve(io.BytesIO(get), out, Path("/nonexistent"), io.BytesIO())
    assert out.getvalue().startswith(b"HTTP/1.1 502 Bad Gateway")
