"""gather: N coroutines, each awaiting --sleeps sleeps of --sleep-ms in a row, started
all at once with asyncio.gather or in --batches batches, each run to completion before
the next (the lab's `gather`, in Python, as the blog post ran it).

One shape and one N per process, so the peak RSS is this run's alone. The wall time runs
from the first task made to the last one done.
"""

import asyncio
import time

import _lab


async def sleeper(sleeps, seconds):
    for _ in range(sleeps):
        await asyncio.sleep(seconds)


async def all_at_once(tasks, sleeps, seconds):
    await asyncio.gather(*(sleeper(sleeps, seconds) for _ in range(tasks)))


async def batched(tasks, batches, sleeps, seconds):
    per = -(-tasks // batches)
    done = 0
    while done < tasks:
        n = min(per, tasks - done)
        await asyncio.gather(*(sleeper(sleeps, seconds) for _ in range(n)))
        done += n


def main():
    p = _lab.parser(__doc__)
    p.add_argument("--tasks", type=int, default=10_000)
    p.add_argument("--shape", choices=["all-at-once", "batched"], default="all-at-once")
    p.add_argument("--sleeps", type=int, default=3)
    p.add_argument("--sleep-ms", type=int, default=100)
    p.add_argument("--batches", type=int, default=5)
    a = p.parse_args()
    loop = _lab.new_loop(a.loop)
    seconds = a.sleep_ms / 1000
    rss_before = _lab.rss_kib()
    start = time.perf_counter()
    if a.shape == "all-at-once":
        loop.run_until_complete(all_at_once(a.tasks, a.sleeps, seconds))
        waves = 1
    else:
        loop.run_until_complete(batched(a.tasks, a.batches, a.sleeps, seconds))
        waves = min(a.batches, a.tasks)
    wall = time.perf_counter() - start
    loop.close()
    _lab.emit(a.loop, {
        "tasks": a.tasks,
        "shape": a.shape,
        "wall_s": wall,
        "ideal_s": waves * a.sleeps * seconds,
        "rss_before_kib": rss_before,
        "peak_rss_kib": _lab.peak_rss_kib(),
    })


if __name__ == "__main__":
    main()
