"""echo: a TCP echo server with asyncio streams, or a UDP echo server with a datagram
protocol, on asyncio's default loop or on uvloop (the lab's `echo`, in Python).

It prints its address on its first line of stdout and serves until stdin closes; the
lab drives it with the same load generator as its Rust servers.
"""

import asyncio

import _lab


async def handle(reader, writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        import socket
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


class Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(data, addr)


def main():
    p = _lab.parser(__doc__)
    p.add_argument("--proto", choices=["tcp", "udp"], default="tcp")
    p.add_argument("--max-seconds", type=float, default=600)
    a = p.parse_args()
    loop = _lab.new_loop(a.loop)

    async def start():
        if a.proto == "tcp":
            server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
            return server.sockets[0].getsockname()[:2]
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            Echo, local_addr=("127.0.0.1", 0))
        return transport.get_extra_info("sockname")[:2]

    _lab.serve_until_stdin_closes(loop, start, a.max_seconds)


if __name__ == "__main__":
    main()
