"""A fault-injecting SMTP server on loopback: a small asyncio server speaking just enough
SMTP for smtplib, whose replies follow a plan.

aiosmtpd cannot refuse the greeting, drop the connection after DATA or answer late on
purpose, so this server is written out: it reads each command, and for each transaction
(one ``MAIL FROM`` ... ``DATA``) takes the next fault of its plan. Every message whose data
arrived is recorded as a *transmission* (whatever the reply), with its Message-ID and the
time it arrived, so a test counts what the server actually received.

Faults, per transaction: ``ok``, ``rcpt_550`` (refuse the recipient), ``data_451``
(temporary refusal after the data), ``data_554`` (permanent refusal after the data),
``drop`` (close the connection after the data, without a reply), ``slow`` (reply 250
after ``slow_seconds``, later than the client waits), ``close_after`` (reply 250, then
close the connection as an idle-timeout would). Per connection: ``refuse_greetings`` counts
the next connections greeted with ``421`` and closed.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy


@dataclass
class Transmission:
    message_id: str
    recipients: list[str]
    #: ``time.monotonic()`` when the data arrived.
    at: float
    fault: str


@dataclass
class FaultySmtpServer:
    host: str = "127.0.0.1"
    port: int = 0
    slow_seconds: float = 1.5
    #: Faults for the next transactions, in order; ``ok`` once it is empty.
    plan: deque[str] = field(default_factory=deque)
    refuse_greetings: int = 0
    transmissions: list[Transmission] = field(default_factory=list)
    connections: int = 0
    refused_recipients: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> FaultySmtpServer:
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._client, self.host, self.port)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            self._server.close()
            clients = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for client in clients:
                client.cancel()
            await asyncio.gather(*clients, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def fail_next(self, *faults: str) -> None:
        with self._lock:
            self.plan.extend(faults)

    def _next_fault(self) -> str:
        with self._lock:
            return self.plan.popleft() if self.plan else "ok"

    @property
    def message_ids(self) -> list[str]:
        return [t.message_id for t in self.transmissions]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self.connections += 1
            refuse = self.refuse_greetings > 0
            if refuse:
                self.refuse_greetings -= 1
        try:
            if refuse:
                writer.write(b"421 4.3.2 Service not available, try later\r\n")
                await writer.drain()
                return
            writer.write(b"220 faulty.example ESMTP\r\n")
            await self._session(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        fault = "ok"
        recipients: list[str] = []
        while True:
            line = await reader.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-faulty.example\r\n250 8BITMIME\r\n")
            elif verb == b"HELO":
                writer.write(b"250 faulty.example\r\n")
            elif verb == b"MAIL":
                fault, recipients = self._next_fault(), []
                writer.write(b"250 2.1.0 OK\r\n")
            elif verb == b"RCPT":
                address = line.decode().partition(":")[2].strip().strip("<>")
                if fault == "rcpt_550":
                    with self._lock:
                        self.refused_recipients.append(address)
                    writer.write(b"550 5.1.1 <%s> user unknown\r\n" % address.encode())
                else:
                    recipients.append(address)
                    writer.write(b"250 2.1.5 OK\r\n")
            elif verb == b"DATA":
                writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                await writer.drain()
                data = await reader.readuntil(b"\r\n.\r\n")
                message = message_from_bytes(data, policy=policy.default)
                with self._lock:
                    self.transmissions.append(
                        Transmission(
                            str(message["Message-ID"]), recipients, time.monotonic(), fault
                        )
                    )
                if fault == "drop":
                    return
                if fault == "slow":
                    await asyncio.sleep(self.slow_seconds)
                reply = {
                    "data_451": b"451 4.3.0 Temporary local problem, try later\r\n",
                    "data_554": b"554 5.7.1 Message refused\r\n",
                }.get(fault, b"250 2.0.0 Accepted\r\n")
                writer.write(reply)
                await writer.drain()
                if fault == "close_after":
                    return
            elif verb == b"RSET":
                fault = "ok"
                writer.write(b"250 2.0.0 OK\r\n")
            elif verb == b"NOOP":
                writer.write(b"250 2.0.0 OK\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 2.0.0 Bye\r\n")
                await writer.drain()
                return
            else:
                writer.write(b"502 5.5.2 Command not recognized\r\n")
            await writer.drain()
