"""The go command as the bundle uses it: module look-ups on the proxy, builds, and what a binary
says it was built from.

Builds run under `nice -n 19`: the lab's VMs share this machine's two cores with them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nordkube.bundle.errors import BundleError

FALLBACK_GO = Path("/usr/local/go/bin/go")


def go_binary() -> str:
    found = shutil.which("go") or (str(FALLBACK_GO) if FALLBACK_GO.exists() else None)
    if not found:
        raise BundleError("the go command is not installed (looked on PATH and in /usr/local/go)")
    return found


def go_env(go_cache: Path, *, cgo: bool = False) -> dict[str, str]:
    """The environment of every go command the bundle runs.

    -mod=mod lets a generated wrapper module gain the requirements and go.sum lines its builds
    need; the module cache stays the user's default, the build cache lives in the bundle cache.
    """
    env = dict(os.environ)
    env.update(
        GOFLAGS="-mod=mod -buildvcs=false",
        GOCACHE=str(go_cache),
        CGO_ENABLED="1" if cgo else "0",
        GOOS="linux",
        GOARCH="amd64",
    )
    return env


def run_go(
    args: Sequence[str],
    env: dict[str, str],
    *,
    cwd: Path | None = None,
    log: Path | None = None,
    niced: bool = False,
) -> str:
    """Run `go ARGS`, return its stdout; on failure raise with the command and its last output."""
    command = [go_binary(), *args]
    if niced:
        command = ["nice", "-n", "19", *command]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if log is not None:
        with log.open("a") as stream:
            stream.write(f"$ {' '.join(command)}\n{result.stdout}{result.stderr}\n")
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        where = f" (log: {log})" if log else ""
        raise BundleError(f"`go {' '.join(args)}` failed{where}:\n{tail}")
    return result.stdout


def go_version(env: dict[str, str]) -> str:
    return run_go(["env", "GOVERSION"], env).strip()


def served_versions(module: str, env: dict[str, str]) -> list[str]:
    """The versions the module proxy lists for a module (it may serve more than it lists)."""
    result = subprocess.run(
        [go_binary(), "list", "-m", "-versions", module],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )
    fields = result.stdout.split()
    return fields[1:] if result.returncode == 0 and fields[:1] == [module] else []


def download_module(module: str, version: str, env: dict[str, str]) -> dict[str, Any]:
    """Fetch one module version into the module cache; refuse clearly when it is not served.

    The answer is `go mod download -json`'s: Dir (the source), GoMod, Info, Sum.
    """
    result = subprocess.run(
        [go_binary(), "mod", "download", "-json", f"{module}@{version}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )
    try:
        answer: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        answer = {"Error": (result.stderr or "no answer").strip()}
    if result.returncode == 0 and "Error" not in answer:
        return answer
    served = served_versions(module, env)
    listing = ", ".join(served) if served else "none"
    proxy = env.get("GOPROXY") or run_go(["env", "GOPROXY"], env).strip()
    lines = [line.strip() for line in str(answer.get("Error", "")).splitlines() if line.strip()]
    reason = lines[-1] if lines else "no reason given"
    raise BundleError(
        f"the Go module proxy ({proxy}) does not serve {module} {version} "
        f"({reason}); versions it lists for {module}: {listing}"
    )


def build_info(binary: Path, env: dict[str, str]) -> dict[str, Any]:
    """`go version -m -json`: the Go version, main module and every dependency of a binary."""
    answer: dict[str, Any] = json.loads(run_go(["version", "-m", "-json", str(binary)], env))
    return answer


def modules_of(info: dict[str, Any]) -> dict[str, str]:
    """Module path -> version actually linked: a replacement's version where there is one, and
    for a module replaced by an edited copy of its source, its version marked as edited."""
    modules: dict[str, str] = {}
    for entry in [info.get("Main", {}), *info.get("Deps", [])]:
        if not entry.get("Path"):
            continue
        replace = entry.get("Replace")
        if replace and replace.get("Path", "").startswith("."):
            modules[entry["Path"]] = f"{entry.get('Version', '(devel)')} (edited copy)"
        else:
            modules[entry["Path"]] = (replace or entry).get("Version", "(devel)")
    return modules
