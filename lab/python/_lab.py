"""What the lab's Python scripts share: the --loop option, a fresh loop, JSON out.

Each script in this directory re-runs one of the lab's experiments in Python, with the
same knobs as the Rust side, and prints one JSON object on stdout for the lab to read.
"""

import argparse
import asyncio
import json
import platform
import sys


def parser(doc):
    """An argument parser with the --loop option every script takes."""
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio",
                   help="asyncio's default loop, or uvloop's")
    return p


def new_loop(kind, loop_class=None):
    """A fresh event loop of the kind asked (`loop_class` overrides asyncio's)."""
    if kind == "uvloop":
        import uvloop
        loop = uvloop.new_event_loop()
    elif loop_class is not None:
        loop = loop_class()
    else:
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    return loop


def peak_rss_kib():
    """The process's peak resident memory (VmHWM), KiB, as the Rust side reads it."""
    return _status_kib("VmHWM:")


def rss_kib():
    """The process's resident memory now (VmRSS), KiB."""
    return _status_kib("VmRSS:")


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def emit(kind, figures):
    """Prints the figures with the interpreter and loop that made them."""
    out = {"python": platform.python_version(), "loop": kind}
    out.update(figures)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    if n == 0:
        return 0.0
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def serve_until_stdin_closes(loop, start, max_seconds):
    """Runs the server that `start()` (a coroutine) starts, prints the address it
    returns on the first line of stdout, and serves until stdin closes (the lab dropped
    this process) or `max_seconds` pass."""
    import threading

    host, port = loop.run_until_complete(start())
    print(f"{host}:{port}", flush=True)
    stopped = asyncio.Event()

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            loop.call_soon_threadsafe(stopped.set)

    threading.Thread(target=watch_stdin, daemon=True).start()

    async def until_stopped():
        try:
            await asyncio.wait_for(stopped.wait(), max_seconds)
        except asyncio.TimeoutError:
            pass

    loop.run_until_complete(until_stopped())
