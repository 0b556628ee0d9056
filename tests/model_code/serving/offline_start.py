"""Start AWS's serving stack with no network at all; run by test_startup.py inside ``unshare -n``.

    python -m tests.model_code.serving.offline_start ARTIFACT ENVIRONMENT_JSON

A new network namespace has only a loopback interface, and it is down: this brings it up (so
the server and this client can meet on 127.0.0.1), takes pip's configured indexes and local
wheel directories away (only what the image has may be used), starts the server with the
model's container environment, and prints what happened as one JSON line.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import struct
import sys
from pathlib import Path

from model_code.serving.process import LocalServer, ServerFailedToStart
from tests.model_code.serving.helpers import SETOSA, invoke

SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as control:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(control, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(control, SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | IFF_UP))


def offline_pip_environment() -> dict[str, str]:
    """This process's environment without any place pip could find a package in."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    environment["PIP_CONFIG_FILE"] = os.devnull  # no global, user or site pip.conf either
    # With no network a download fails at once; pip's 5 retries with back-off only add 8 s
    # before the same failure (the control test), and a start that needs no download makes none.
    environment["PIP_RETRIES"] = "0"
    return environment


def main(argv: list[str]) -> int:
    artifact, container_environment = Path(argv[0]), json.loads(argv[1])
    loopback_up()
    try:
        with LocalServer(
            artifact, environment=container_environment, process_environment=offline_pip_environment()
        ) as server:
            answer = invoke(server.url, SETOSA + "\n", "text/csv", "text/csv")
            result = {"started": True, "ping": server.ping(), "status": answer.status, "body": answer.text}
    except ServerFailedToStart as error:
        result = {"started": False, "log": str(error)[-4000:]}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
