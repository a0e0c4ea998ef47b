"""cpu-share: a request/response server whose every request is a CPU burst of --cpu-us
and then a wait of --wait-us on a timer (the lab's `cpu-share`, in Python). The burst
runs inline in the connection's task or through loop.run_in_executor (--burst).

Each request is 8 bytes, answered with the same 8 bytes. It prints its address on its
first line of stdout and serves until stdin closes; the lab's own client offers the load.
"""

import asyncio
import socket
import time

import _lab


def spin(seconds):
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        x += 1
    return x


def main():
    p = _lab.parser(__doc__)
    p.add_argument("--cpu-us", type=int, default=0)
    p.add_argument("--wait-us", type=int, default=5000)
    p.add_argument("--burst", choices=["inline", "spawn-blocking"], default="inline")
    p.add_argument("--max-seconds", type=float, default=600)
    a = p.parse_args()
    loop = _lab.new_loop(a.loop)
    cpu, wait = a.cpu_us / 1e6, a.wait_us / 1e6

    async def handle(reader, writer):
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                request = await reader.readexactly(8)
                if cpu > 0:
                    if a.burst == "inline":
                        spin(cpu)
                    else:
                        await asyncio.get_running_loop().run_in_executor(None, spin, cpu)
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(request)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def start():
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
        return server.sockets[0].getsockname()[:2]

    _lab.serve_until_stdin_closes(loop, start, a.max_seconds)


if __name__ == "__main__":
    main()
