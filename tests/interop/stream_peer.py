#!/usr/bin/env python3
"""stream_peer.py: an asyncio peer for corio's stream interop tests
(tests/net/test_net_interop.c).

  stream_peer.py client tcp PORT | client unix PATH
      open_connection, send lines and check their echoes, half-close
      (write_eof), then expect b"bye\\n" and the end of the stream.
  stream_peer.py server tcp | server unix PATH
      start_server; print the port (or "ready") on stdout; for one
      client: echo lines; on b"reset\\n" reset the connection (RST); at
      the client's half-close answer b"bye\\n" and close. Exits after it.
Exits 0 when everything matched, 1 otherwise.
"""
import asyncio
import socket
import struct
import sys

LINES = [b"hello corio\n", b"x" * 3000 + b"\n", b"last line\n"]


async def client(kind, where):
    if kind == "tcp":
        reader, writer = await asyncio.open_connection("127.0.0.1", int(where))
    else:
        reader, writer = await asyncio.open_unix_connection(where)
    for line in LINES:
        writer.write(line)
        await writer.drain()
        got = await reader.readline()
        if got != line:
            print("echo mismatch", got[:40], file=sys.stderr)
            return 1
    writer.write_eof()
    rest = await reader.read()
    writer.close()
    if rest != b"bye\n":
        print("after half-close:", rest[:40], file=sys.stderr)
        return 1
    return 0


async def server(kind, where):
    done = asyncio.get_running_loop().create_future()

    async def handle(reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    writer.write(b"bye\n")
                    await writer.drain()
                    break
                if line == b"reset\n":
                    sock = writer.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
                    writer.transport.abort()
                    break
                writer.write(line)
                await writer.drain()
            writer.close()
        finally:
            if not done.done():
                done.set_result(0)

    if kind == "tcp":
        srv = await asyncio.start_server(handle, "127.0.0.1", 0)
        print(srv.sockets[0].getsockname()[1], flush=True)
    else:
        srv = await asyncio.start_unix_server(handle, where)
        print("ready", flush=True)
    rc = await done
    srv.close()
    await srv.wait_closed()
    return rc


def main():
    role, kind = sys.argv[1], sys.argv[2]
    where = sys.argv[3] if len(sys.argv) > 3 else None
    coro = client(kind, where) if role == "client" else server(kind, where)
    return asyncio.run(asyncio.wait_for(coro, 30))


if __name__ == "__main__":
    sys.exit(main())
