"""The lab guests' only way out: an HTTP proxy to Debian's mirror, one process per connection.

QEMU runs this script for every TCP connection a guest opens to 10.0.2.100:3142 (the
`guestfwd=...-cmd:` of a `restrict=on` user network), with the connection on stdin and stdout.
It serves plain-HTTP GET and HEAD for Debian's mirror hosts and refuses everything else, so apt
works and nothing else leaves the lab. Package files and by-hash indexes never change under one
URL, so they are cached on the host: a re-created lab installs them without downloading.

Standard library only, run by path: it must start fast and print nothing but HTTP on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

ALLOWED_HOSTS = frozenset({"deb.debian.org", "security.debian.org"})
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
CHUNK = 256 * 1024
UPSTREAM_TIMEOUT = 60.0


@dataclass(frozen=True)
class Request:
    method: str
    host: str
    path: str
    headers: list[tuple[str, str]]
    keep_alive: bool


def read_request(stream: BinaryIO) -> Request | None:
    """Read one proxy request (absolute URI); None at the end of the connection."""
    line = stream.readline()
    while line in (b"\r\n", b"\n"):
        line = stream.readline()
    if not line:
        return None
    method, target, version = line.decode("latin-1").split()  # ValueError: not HTTP
    headers = []
    while (header := stream.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = header.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    connection = {value.lower() for name, value in headers if name.lower() == "connection"}
    keep_alive = "close" not in connection and version == "HTTP/1.1"
    url = urlsplit(target)
    path = url.path + (f"?{url.query}" if url.query else "")
    return Request(method.upper(), (url.hostname or "").lower(), path or "/", headers, keep_alive)


def refusal(request: Request) -> tuple[int, str] | None:
    """Why the lab does not forward this request, or None when it does."""
    if request.method not in ("GET", "HEAD"):
        return 405, f"the lab's apt proxy forwards GET and HEAD only, not {request.method}"
    if request.host not in ALLOWED_HOSTS:
        return 403, f"the lab's guests may reach only {', '.join(sorted(ALLOWED_HOSTS))}"
    return None


def cache_path(cache: Path, request: Request) -> Path | None:
    """Where an immutable file is cached, or None for what may change (InRelease, queries)."""
    immutable = request.path.endswith(".deb") or "/by-hash/" in request.path
    unsafe = "?" in request.path or ".." in request.path.split("/")
    if request.method != "GET" or not immutable or unsafe:
        return None
    if any(name.lower() == "range" for name, _ in request.headers):
        return None
    return cache / request.host / request.path.lstrip("/")


def write_head(out: BinaryIO, status: int, reason: str, headers: list[tuple[str, str]]) -> None:
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{name}: {value}" for name, value in headers]
    out.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))


def send_text(out: BinaryIO, status: int, reason: str, text: str) -> None:
    body = (text + "\n").encode()
    write_head(
        out, status, reason, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
    )
    out.write(body)


def send_cached(out: BinaryIO, path: Path, request: Request) -> None:
    size = path.stat().st_size
    write_head(
        out,
        200,
        "OK",
        [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))],
    )
    if request.method == "GET":
        with path.open("rb") as cached:
            while chunk := cached.read(CHUNK):
                out.write(chunk)


def body_chunks(response: http.client.HTTPResponse) -> Iterator[bytes]:
    while chunk := response.read(CHUNK):
        yield chunk


class Upstream:
    """Keep-alive connections to the mirror hosts, one per host, for this guest connection."""

    def __init__(self) -> None:
        self.connections: dict[str, http.client.HTTPConnection] = {}

    def fetch(self, request: Request) -> http.client.HTTPResponse:
        headers = {name: value for name, value in request.headers if name.lower() not in HOP_BY_HOP}
        headers["Host"] = request.host
        for attempt in (1, 2):
            connection = self.connections.get(request.host)
            if connection is None:
                connection = http.client.HTTPConnection(request.host, 80, timeout=UPSTREAM_TIMEOUT)
                self.connections[request.host] = connection
            try:
                connection.request(request.method, request.path, headers=headers)
                return connection.getresponse()
            except (OSError, http.client.HTTPException):
                # A kept-alive connection the mirror closed: retry once on a fresh one.
                connection.close()
                del self.connections[request.host]
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def relay(
    out: BinaryIO, request: Request, response: http.client.HTTPResponse, cache_to: Path | None
) -> None:
    """Pass the mirror's answer on; keep a complete 200 of an immutable file in the cache."""
    headers = [
        (name, value) for name, value in response.getheaders() if name.lower() not in HOP_BY_HOP
    ]
    length = response.getheader("Content-Length")
    chunks: Iterator[bytes] | list[bytes] = body_chunks(response)
    if length is None and request.method == "GET":
        chunks = list(chunks)  # chunked upstream: re-send with a length, the guest keeps alive
        length = str(sum(len(chunk) for chunk in chunks))
        headers.append(("Content-Length", length))
    write_head(out, response.status, response.reason, headers)
    if request.method == "HEAD":
        response.read()
    elif cache_to is None or response.status != 200 or length is None:
        for chunk in chunks:
            out.write(chunk)
    else:
        relay_and_cache(out, chunks, cache_to, int(length))


def relay_and_cache(out: BinaryIO, chunks: Iterable[bytes], cache_to: Path, length: int) -> None:
    """Copy into a temporary file that is renamed into place only when complete, so a cut
    download or two guests fetching the same package never leave a partial file cached."""
    cache_to.parent.mkdir(parents=True, exist_ok=True)
    temporary = cache_to.with_name(f".{cache_to.name}.{os.getpid()}")
    written = 0
    try:
        with temporary.open("wb") as copy:
            for chunk in chunks:
                out.write(chunk)
                copy.write(chunk)
                written += len(chunk)
        if written == length:
            temporary.replace(cache_to)
    finally:
        temporary.unlink(missing_ok=True)


def answer(out: BinaryIO, upstream: Upstream, request: Request, cache: Path) -> str:
    """Answer one request; return what happened, for the log."""
    reason = refusal(request)
    if reason:
        send_text(out, reason[0], "Refused", reason[1])
        return f"refused {reason[0]}"
    cached = cache_path(cache, request)
    if cached is not None and cached.is_file():
        send_cached(out, cached, request)
        return "cache hit"
    try:
        response = upstream.fetch(request)
    except (OSError, http.client.HTTPException) as error:
        message = f"the lab's apt proxy could not reach {request.host}: {error}"
        send_text(out, 502, "Bad Gateway", message)
        return f"upstream error {error}"
    # An error from here on ends the connection: the head is sent, apt retries on a new one.
    relay(out, request, response, cached)
    return "forwarded"


def serve(inp: BinaryIO, out: BinaryIO, cache: Path, log: BinaryIO) -> None:
    """Answer the requests of one guest connection in order (apt pipelines them)."""
    upstream = Upstream()
    while True:
        try:
            request = read_request(inp)
        except ValueError:
            send_text(out, 400, "Bad Request", "the lab's apt proxy expects HTTP proxy requests")
            break
        if request is None:
            break
        started = time.monotonic()
        outcome = answer(out, upstream, request, cache)
        out.flush()
        seconds = time.monotonic() - started
        log.write(
            f"{time.strftime('%H:%M:%S')} {os.getpid()} {request.method} "
            f"http://{request.host}{request.path} {outcome} {seconds:.2f}s\n".encode()
        )
        log.flush()
        if not request.keep_alive:
            break


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", type=Path, required=True, help="directory for cached packages")
    parser.add_argument("--log", type=Path, required=True, help="append one line per request")
    args = parser.parse_args()
    with args.log.open("ab") as log:
        # stderr is the guest's connection too: errors must go to the log, never to the guest.
        sys.stderr = open(args.log, "a")  # noqa: SIM115
        # The guest may hang up at any time; that ends this connection and nothing else.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            serve(sys.stdin.buffer, sys.stdout.buffer, args.cache, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
