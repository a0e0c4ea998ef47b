"""chain: does every await go back to the loop? (the lab's `chain`, in Python)

An await chain of depth 1, 5, 50 over asyncio.sleep and over a ready coroutine. One call
runs as the task of run_until_complete on a loop that counts its `_run_once` iterations
(asyncio's loop only: uvloop's loop is compiled and has no `_run_once` to count); then
many calls are timed in a row inside one coroutine.
"""

import asyncio
import time

import _lab


class CountingLoop(asyncio.SelectorEventLoop):
    """asyncio's selector loop, counting the iterations of its `_run_once`."""

    def __init__(self):
        super().__init__()
        self.iterations = 0

    def _run_once(self):
        self.iterations += 1
        super()._run_once()


async def ready_leaf():
    return 1


def make_chain(depth, leaf):
    """A chain of `depth` coroutine levels above `leaf()`."""
    async def level(d):
        if d == 0:
            return await leaf()
        return await level(d - 1)
    return lambda: level(depth - 1)


def main():
    p = _lab.parser(__doc__)
    p.add_argument("--depths", default="1,5,50")
    p.add_argument("--sleep-ms", type=int, default=1)
    p.add_argument("--calls", type=int, default=200_000)
    p.add_argument("--sleep-calls", type=int, default=20)
    p.add_argument("--samples", type=int, default=5)
    a = p.parse_args()
    depths = [int(d) for d in a.depths.split(",")]
    counting = a.loop == "asyncio"
    loop = _lab.new_loop(a.loop, CountingLoop if counting else None)
    sleep_s = a.sleep_ms / 1000

    async def sleep_leaf():
        await asyncio.sleep(sleep_s)
        return 1

    rows = []
    for leaf_name, leaf in (("sleep", sleep_leaf), ("ready", ready_leaf)):
        for depth in depths:
            call = make_chain(depth, leaf)
            before = loop.iterations if counting else 0
            loop.run_until_complete(call())
            run_once = loop.iterations - before if counting else None
            n = a.sleep_calls if leaf_name == "sleep" else a.calls
            samples = 1 if leaf_name == "sleep" else a.samples

            async def timed():
                start = time.perf_counter_ns()
                for _ in range(n):
                    await call()
                return (time.perf_counter_ns() - start) / n

            times = [loop.run_until_complete(timed()) for _ in range(samples)]
            rows.append({"leaf": leaf_name, "depth": depth, "run_once": run_once,
                         "ns_per_call": _lab.median(times)})
    loop.close()
    _lab.emit(a.loop, {"rows": rows})


if __name__ == "__main__":
    main()
