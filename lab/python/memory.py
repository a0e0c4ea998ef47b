"""memory: what an idle task and a coroutine cost in bytes (the lab's `memory`, in
Python), by tracemalloc.

Idle tasks: N tasks made and each run once, left awaiting a future that never
completes; the bytes tracemalloc sees held after, above before, per task. Coroutines:
N coroutine objects made and not started, bytes per coroutine. Resident memory growth
for the idle tasks is measured in a second pass without tracemalloc.
"""

import asyncio
import gc
import time
import tracemalloc

import _lab


async def idle(never):
    await never


def idle_tasks(loop, n):
    never = loop.create_future()
    tasks = [loop.create_task(idle(never)) for _ in range(n)]
    # One turn of the loop: every task runs to its await and parks there.
    loop.run_until_complete(asyncio.sleep(0))
    return never, tasks


def main():
    p = _lab.parser(__doc__)
    p.add_argument("--tasks", type=int, default=100_000)
    a = p.parse_args()
    loop = _lab.new_loop(a.loop)
    n = a.tasks

    # Resident memory and time, untraced.
    gc.collect()
    rss_before = _lab.rss_kib()
    start = time.perf_counter()
    never, tasks = idle_tasks(loop, n)
    spawn_s = time.perf_counter() - start
    rss_after = _lab.rss_kib()
    for t in tasks:
        t.cancel()
    loop.run_until_complete(asyncio.sleep(0))
    del never, tasks
    gc.collect()

    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    never, tasks = idle_tasks(loop, n)
    task_bytes = (tracemalloc.get_traced_memory()[0] - base) / n
    for t in tasks:
        t.cancel()
    loop.run_until_complete(asyncio.sleep(0))
    del never, tasks
    gc.collect()

    base = tracemalloc.get_traced_memory()[0]
    coros = [idle(None) for _ in range(n)]
    coro_bytes = (tracemalloc.get_traced_memory()[0] - base) / n
    for c in coros:
        c.close()
    del coros
    tracemalloc.stop()
    loop.close()
    _lab.emit(a.loop, {
        "tasks": n,
        "task_bytes": task_bytes,
        "coroutine_bytes": coro_bytes,
        "rss_before_kib": rss_before,
        "rss_after_kib": rss_after,
        "spawn_s": spawn_s,
    })


if __name__ == "__main__":
    main()
