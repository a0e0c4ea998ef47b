"""stall: what one blocking call costs the loop (the lab's `stall`, in Python).

A heartbeat task sleeps 1 ms at a time and records how late each wake-up is. Beside it,
another task injects --stalls stalls of --stall-ms each, --gap-ms apart, three ways:
blocking-sleep (time.sleep in the task), cpu-loop (a CPU loop in the task) and
spawn-blocking (the same CPU loop through loop.run_in_executor, awaited).
"""

import asyncio
import math
import time

import _lab

PERIOD = 0.001


def spin(seconds):
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        x += 1
    return x


def latency(samples_ns):
    """Nearest-rank percentiles in µs, as the lab's Latency."""
    if not samples_ns:
        return {"samples": 0, "p50_us": 0.0, "p99_us": 0.0, "max_us": 0.0}
    s = sorted(samples_ns)

    def at(q):
        rank = min(max(math.ceil(q * len(s)), 1), len(s))
        return s[rank - 1] / 1e3

    return {"samples": len(s), "p50_us": at(0.5), "p99_us": at(0.99), "max_us": at(1.0)}


async def one_way(way, stall, stalls, gap):
    loop = asyncio.get_running_loop()
    done = False
    lags = []

    async def heartbeat():
        while not done:
            before = time.perf_counter_ns()
            await asyncio.sleep(PERIOD)
            lags.append(max(0, time.perf_counter_ns() - before - int(PERIOD * 1e9)))

    beat = asyncio.ensure_future(heartbeat())
    await asyncio.sleep(gap)
    for _ in range(stalls):
        if way == "blocking-sleep":
            time.sleep(stall)
        elif way == "cpu-loop":
            spin(stall)
        else:
            await loop.run_in_executor(None, spin, stall)
        await asyncio.sleep(gap)
    done = True
    await beat
    late = sum(1 for lag in lags if lag >= (stall - PERIOD) * 1e9)
    return {"way": way, "stalls": stalls, "ticks": len(lags), "late_ticks": late,
            "lag": latency(lags)}


def main():
    p = _lab.parser(__doc__)
    p.add_argument("--stall-ms", type=int, default=50)
    p.add_argument("--stalls", type=int, default=5)
    p.add_argument("--gap-ms", type=int, default=30)
    a = p.parse_args()
    loop = _lab.new_loop(a.loop)
    rows = [loop.run_until_complete(one_way(way, a.stall_ms / 1000, a.stalls, a.gap_ms / 1000))
            for way in ("blocking-sleep", "cpu-loop", "spawn-blocking")]
    loop.close()
    _lab.emit(a.loop, {"stall_ms": a.stall_ms, "rows": rows})


if __name__ == "__main__":
    main()
