"""yield-cost: what one call, await, switch and thread switch cost (the lab's
`yield-cost`, in Python).

call: a plain function call. await-ready: `await` of a coroutine that returns at once.
chain-5: a 5-deep chain of such coroutines. yield: `await asyncio.sleep(0)`, the forced
trip through the loop. ping-pong: two tasks pass a baton (a future each), one switch per
pass. threads: two OS threads pass a baton (an Event each), one switch per pass.
Each figure is the median of --samples samples, ns per operation.
"""

import asyncio
import threading
import time

import _lab


def step(x):
    return x + 1


def time_calls(ops):
    acc = 0
    start = time.perf_counter_ns()
    for _ in range(ops):
        acc = step(acc)
    return (time.perf_counter_ns() - start) / ops


async def ready(x):
    return x


async def c1(x):
    return await ready(x)


async def c2(x):
    return await c1(x)


async def c3(x):
    return await c2(x)


async def c4(x):
    return await c3(x)


async def time_ready(ops):
    acc = 0
    start = time.perf_counter_ns()
    for i in range(ops):
        acc += await ready(i)
    return (time.perf_counter_ns() - start) / ops


async def time_chain5(ops):
    acc = 0
    start = time.perf_counter_ns()
    for i in range(ops):
        acc += await c4(i)
    return (time.perf_counter_ns() - start) / ops


async def time_yields(ops):
    start = time.perf_counter_ns()
    for _ in range(ops):
        await asyncio.sleep(0)
    return (time.perf_counter_ns() - start) / ops


async def time_ping_pong(rounds):
    loop = asyncio.get_running_loop()
    batons = [loop.create_future(), loop.create_future()]

    async def player(me):
        for _ in range(rounds):
            await batons[me]
            batons[me] = loop.create_future()
            batons[1 - me].set_result(None)

    start = time.perf_counter_ns()
    a = asyncio.ensure_future(player(0))
    b = asyncio.ensure_future(player(1))
    batons[0].set_result(None)
    await asyncio.gather(a, b)
    return (time.perf_counter_ns() - start) / (2 * rounds)


def time_threads(rounds):
    events = [threading.Event(), threading.Event()]

    def player(me):
        for _ in range(rounds):
            events[me].wait()
            events[me].clear()
            events[1 - me].set()

    threads = [threading.Thread(target=player, args=(me,)) for me in (0, 1)]
    start = time.perf_counter_ns()
    for t in threads:
        t.start()
    events[0].set()
    for t in threads:
        t.join()
    return (time.perf_counter_ns() - start) / (2 * rounds)


def main():
    p = _lab.parser(__doc__)
    p.add_argument("--ops", type=int, default=1_000_000)
    p.add_argument("--thread-rounds", type=int, default=20_000)
    p.add_argument("--samples", type=int, default=5)
    a = p.parse_args()
    loop = _lab.new_loop(a.loop)
    plan = [
        ("call", lambda: time_calls(a.ops)),
        ("await-ready", lambda: loop.run_until_complete(time_ready(a.ops))),
        ("chain-5", lambda: loop.run_until_complete(time_chain5(a.ops))),
        ("yield", lambda: loop.run_until_complete(time_yields(a.ops))),
        ("ping-pong", lambda: loop.run_until_complete(time_ping_pong(a.ops))),
        ("threads", lambda: time_threads(a.thread_rounds)),
    ]
    rows = []
    for op, measure in plan:
        samples = [measure() for _ in range(a.samples)]
        rows.append({"op": op, "ns": _lab.median(samples), "samples_ns": samples})
    loop.close()
    _lab.emit(a.loop, {"rows": rows})


if __name__ == "__main__":
    main()
