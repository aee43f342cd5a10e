"""The node's DNS query (nordkube/dnsquery.py), run for real: the shell command the deploy and
the node suite send, with this machine's Pythons (the running one; CentOS 7's 2.7 and RHEL 8's
3.6 where pyenv has them), against a DNS server on loopback that answers as CoreDNS does, one
that answers with an error code, and one that never answers."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from nordkube import dnsquery

NAME = "kubernetes.default.svc.cluster.local"
PYENV = Path.home() / ".pyenv" / "versions"
PYTHONS = [sys.executable] + [
    str(path / "bin" / "python")
    for prefix in ("2.7", "3.6")
    for path in sorted(PYENV.glob(f"{prefix}.*"))[-1:]
    if (path / "bin" / "python").exists()
]


def reply(query: bytes, rcode: int = 0, addresses: tuple[str, ...] = ()) -> bytes:
    """An answer as CoreDNS gives it: the question echoed, a CNAME-free list of A records
    whose names point back at the question (0xC00C)."""
    end = query.index(b"\0", 12) + 5
    header = query[:2] + struct.pack(">HHHHH", 0x8180 | rcode, 1, len(addresses), 0, 0)
    records = b"".join(
        struct.pack(">HHHIH", 0xC00C, 1, 1, 5, 4) + socket.inet_aton(address)
        for address in addresses
    )
    return header + query[12:end] + records


@pytest.fixture
def server() -> Iterator[tuple[socket.socket, list[bytes]]]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    yield sock, []
    sock.close()


def serve(sock: socket.socket, seen: list[bytes], **answer) -> threading.Thread:
    def once() -> None:
        query, peer = sock.recvfrom(4096)
        seen.append(query)
        sock.sendto(reply(query, **answer), peer)

    thread = threading.Thread(target=once, daemon=True)
    thread.start()
    return thread


def ask(python: str, port: int) -> tuple[list[str], str | None]:
    command = dnsquery.command("127.0.0.1", NAME, port).replace(
        f"for p in {' '.join(dnsquery.PYTHONS)}", f"for p in {python}"
    )
    result = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr  # the command itself never fails
    return dnsquery.parse(result.stdout.splitlines())


@pytest.mark.parametrize("python", PYTHONS)
def test_the_answers_addresses_are_printed(server, python):
    sock, seen = server
    thread = serve(sock, seen, addresses=("10.96.0.1", "10.96.0.2"))
    assert ask(python, sock.getsockname()[1]) == (["10.96.0.1", "10.96.0.2"], None)
    thread.join(5)
    (query,) = seen
    assert b"\x0akubernetes\x07default\x03svc\x07cluster\x05local\x00\x00\x01\x00\x01" in query


@pytest.mark.parametrize("python", PYTHONS)
def test_an_error_code_is_named(server, python):
    sock, seen = server
    serve(sock, seen, rcode=3)
    assert ask(python, sock.getsockname()[1]) == (
        [],
        "the server answered with response code 3",
    )


def test_no_answer_is_named(server):
    sock, _ = server
    assert ask(sys.executable, sock.getsockname()[1]) == (
        [],
        f"no answer from 127.0.0.1:{sock.getsockname()[1]} within 5 s",
    )


def test_a_node_without_python_says_so():
    command = dnsquery.command("10.96.0.10", NAME).replace(
        f"for p in {' '.join(dnsquery.PYTHONS)}", "for p in no-such-python"
    )
    output = subprocess.run(["sh", "-c", command], capture_output=True, text=True).stdout
    assert dnsquery.parse(output.splitlines()) == (
        [],
        "no Python on this node to send a DNS query with",
    )


def test_a_traceback_gives_its_last_line():
    lines = ["Traceback (most recent call last):", '  File "<string>", line 3', "IndexError: x"]
    assert dnsquery.parse(lines) == ([], "IndexError: x")
