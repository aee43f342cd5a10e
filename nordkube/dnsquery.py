"""One DNS query for an A record, sent from a node to a given server (the cluster DNS Service
address), by the deploy's wait and by the node suite alike.

The query is a small program run by whichever Python the node has: python3, RHEL's
platform-python, or the python2 of CentOS 7 (it is written for both), so that no node needs
dig. It prints one `address A` line per answer, or one `error WHY` line: the node itself
refused to send it (EPERM: a local netfilter or IPVS rule dropped it, as kube-proxy does for
a Service it has not programmed or has no endpoint for), no answer in time, or an answer with
an error code.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable

# Runs under Python 2.7 and 3.x: argv is the name, the server and optionally the port.
SCRIPT = r"""
import errno, socket, struct, sys
name, server = sys.argv[1], sys.argv[2]
port = int(sys.argv[3]) if len(sys.argv) > 3 else 53
query = struct.pack(">HHHHHH", 0x4E4B, 0x0100, 1, 0, 0, 0)
for label in name.split("."):
    query += struct.pack("B", len(label)) + label.encode("ascii")
query += b"\0" + struct.pack(">HH", 1, 1)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(5)
try:
    sock.sendto(query, (server, port))
    answer = bytearray(sock.recv(4096))
except socket.timeout:
    print("error no answer from %s:%d within 5 s" % (server, port))
    sys.exit(1)
except socket.error as failure:
    if failure.errno == errno.EPERM:
        print("error refused on this node (EPERM): a local netfilter or IPVS rule dropped the"
              " query, as kube-proxy does for a Service it has not programmed or has no"
              " endpoint for")
    else:
        print("error %s" % failure)
    sys.exit(1)
if len(answer) < 12 or answer[0:2] != bytearray(query[0:2]):
    print("error a reply that is not an answer to this query (%d bytes)" % len(answer))
    sys.exit(1)
flags, _, count = struct.unpack(">HHH", bytes(answer[2:8]))
if flags & 0xF:
    print("error the server answered with response code %d" % (flags & 0xF))
    sys.exit(1)
def skip(offset):
    while answer[offset] and answer[offset] & 0xC0 != 0xC0:
        offset += 1 + answer[offset]
    return offset + (2 if answer[offset] else 1)
offset = skip(12) + 4
for _ in range(count):
    offset = skip(offset)
    kind, _, _, length = struct.unpack(">HHIH", bytes(answer[offset:offset + 10]))
    offset += 10
    if kind == 1 and length == 4:
        print("address %s" % socket.inet_ntoa(bytes(answer[offset:offset + 4])))
    offset += length
"""

# The first Python the node has: python3, RHEL 8's platform-python, CentOS 7's python2.
PYTHONS = ("python3", "/usr/libexec/platform-python", "python2", "python")


def command(server: str, name: str, port: int = 53) -> str:
    """A shell command that sends the query from the node and prints the script's lines."""
    arguments = " ".join(shlex.quote(part) for part in (SCRIPT, name, server, str(port)))
    return (
        f"python=; for p in {' '.join(PYTHONS)}; do "
        'if command -v "$p" >/dev/null 2>&1; then python="$p"; break; fi; done; '
        'if [ -n "$python" ]; then "$python" -c ' + arguments + " 2>&1 || true; "
        "else echo 'error no Python on this node to send a DNS query with'; fi"
    )


def parse(lines: Iterable[str]) -> tuple[list[str], str | None]:
    """The addresses the query printed, and its error (None when it printed none)."""
    addresses: list[str] = []
    error = other = None
    for line in lines:
        word, _, rest = line.strip().partition(" ")
        if word == "address":
            addresses.append(rest.strip())
        elif word == "error":
            error = rest.strip()
        elif line.strip():
            other = line.strip()  # a Python traceback's last line, or a shell's complaint
    if error is None and not addresses:
        error = other or "the query printed nothing"
    return addresses, error
