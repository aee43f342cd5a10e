"""A per-run cache of facts, kept on pyinfra's state, that forgets a host once it changed.

pyinfra 3 reads a fact again on every `get_fact`, and without `-y` runs each operation's
generator twice (once to detect changes, once more when it executes), so a run that reads the
same fact in several operations pays one SSH round trip per read. `read` keeps each answer
per (host, fact, arguments) on the run's `State`. The answer is valid until the host changes:
after any operation that ran a command on a host, whoever built that operation (ours, a
built-in `files.line`, a `server.shell`), that host's cached facts are dropped before its
next operation starts, so the next read asks the host again.

How often fact commands are sent per host, measured with `benchmarks/fact_reads.py` (pyinfra
3.10, the full deploy on one @fake host; 7 facts, one of them asked with two argument sets):
- `--dry`: change detection only, nothing executes: each fact once (8 commands), converged or not.
- `-y`: pyinfra skips change detection; each operation's generator runs once, when it executes.
  A converged node: each fact once (8). A fresh node: 15, since a fact needed after a change
  is read again (FileStates 6 times: the repository, module, sysctl and containerd files).
- the confirm prompt (no `-y`): change detection reads each fact once (8), the plan is shown,
  and after Enter execution reads again only what a change made stale: 8 on a converged node,
  19 on a fresh one.
Without this cache pyinfra would send one command per `get_fact`, for each operation that
reads the fact and again when it executes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import gevent
from gevent.lock import Semaphore
from pyinfra import host as current_host
from pyinfra.api import FactBase, Host, State
from pyinfra.api.state import BaseStateCallback
from pyinfra.context import ctx_host, ctx_state

_ATTRIBUTE = "_nordkube_fact_cache"


class FactCache(BaseStateCallback):
    """Cached fact answers of one pyinfra run, attached to its State as a callback handler."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str, str], Any] = {}
        # Results of `once`, each computed by the first host's deploy that asks (the others
        # wait on its lock): a value, or the exception to raise again.
        self.results: dict[str, tuple[Any, BaseException | None]] = {}
        self.locks: dict[str, Semaphore] = {}
        # The last operation each host ran: checked when its next one starts.
        self._last_op: dict[str, str] = {}

    def get(self, target: Host, fact: type[FactBase[Any]], arguments: dict[str, Any]) -> Any:
        key = (target.name, fact.__name__, repr(sorted(arguments.items())))
        if key not in self.answers:
            self.answers[key] = target.get_fact(fact, **arguments)
        return self.answers[key]

    def forget(self, host_name: str) -> None:
        """Drop every cached answer of `host_name`."""
        for key in [key for key in self.answers if key[0] == host_name]:
            del self.answers[key]

    # pyinfra calls these (as staticmethods on the base class, hence `state` first).
    def operation_host_start(self, state: State, host: Host, op_hash: str) -> None:  # type: ignore[override]
        previous = self._last_op.pop(host.name, None)
        if previous is not None and _ran_commands(state, host, previous):
            self.forget(host.name)

    def operation_host_success(  # type: ignore[override]
        self, state: State, host: Host, op_hash: str, retry_count: int = 0
    ) -> None:
        self._last_op[host.name] = op_hash

    def operation_host_error(  # type: ignore[override]
        self, state: State, host: Host, op_hash: str, retry_count: int = 0, max_retries: int = 0
    ) -> None:
        # A failed operation may still have run some of its commands.
        self.forget(host.name)


def _ran_commands(state: State, host: Host, op_hash: str) -> bool:
    meta = state.get_op_data_for_host(host, op_hash).operation_meta
    return bool(meta.is_complete() and meta.executed)


def cache_of(state: State) -> FactCache:
    """The run's fact cache, attached to `state` (and registered for its callbacks) once."""
    cache = getattr(state, _ATTRIBUTE, None)
    if cache is None:
        cache = FactCache()
        setattr(state, _ATTRIBUTE, cache)
        state.add_callback_handler(cache)
    return cache


def read(fact: type[FactBase[Any]], target: Host | None = None, **arguments: Any) -> Any:
    """The fact's value for `target` (default: the current host), read once until it changes."""
    return cache_of(ctx_state.get()).get(target or current_host, fact, arguments)


Result = TypeVar("Result")


def once(key: str, compute: Callable[[], Result]) -> Result:
    """`compute()` once per run, whichever host's deploy asks first; every host gets the
    same value, or the same exception raised again.

    A judgement over the whole inventory (validation compares every host with every other)
    done in each host's deploy would cost N times N; done once it costs N.
    """
    cache = cache_of(ctx_state.get())
    with cache.locks.setdefault(key, Semaphore()):
        if key not in cache.results:
            try:
                cache.results[key] = (compute(), None)
            except Exception as error:
                cache.results[key] = (None, error)
    value, raised = cache.results[key]
    if raised is not None:
        raise raised
    result: Result = value
    return result


def each_host(function: Callable[[Host], Result], targets: Iterable[Host]) -> dict[str, Result]:
    """`function(target)` for every target at once, each in its own greenlet with that host as
    the current one, so their fact reads (one SSH round trip each) overlap instead of queueing.
    Returns the results by host name; the first exception is raised."""
    state = ctx_state.get()

    def run(target: Host) -> Result:
        with ctx_state.use(state), ctx_host.use(target):
            return function(target)

    jobs = {target.name: gevent.spawn(run, target) for target in targets}
    gevent.joinall(list(jobs.values()))
    return {name: job.get() for name, job in jobs.items()}
