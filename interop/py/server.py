"""The Python `mcp` SDK server of the interop matrix.

    python server.py PORT [sse]

Serves Streamable HTTP on 127.0.0.1:PORT/mcp (or with "sse" the 2024-11-05
HTTP+SSE transport on 127.0.0.1:PORT/sse) with an echo tool, a
secret_admin tool, a prompt and a resource. Each tool execution is appended
as a line "tool <name>" to the file named by INTEROP_EXEC_LOG (if set), so a
test can tell whether a smuggled call reached the tool.
"""

import os
import sys

from mcp.server import MCPServer


def executed(name: str) -> None:
    path = os.environ.get("INTEROP_EXEC_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"tool {name}\n")


server = MCPServer("interop-py-server", version="1.0.0", log_level="WARNING")


@server.tool(description="Echoes the message back.")
def echo(message: str) -> str:
    executed("echo")
    return f"echo: {message}"


@server.tool(description="Administrative operation that policy keeps from clients.")
def secret_admin() -> str:
    executed("secret_admin")
    return "secret_admin ran"


@server.prompt(description="A friendly greeting.")
def greeting(name: str) -> str:
    return f"Hello, {name}!"


@server.resource("interop://note", name="note", description="A short note.", mime_type="text/plain")
def note() -> str:
    return "interop note"


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or not sys.argv[1].isdigit() or sys.argv[2:] not in ([], ["sse"]):
        sys.exit("usage: python server.py PORT [sse]")
    print(f"listening on {sys.argv[1]}", file=sys.stderr, flush=True)
    transport = "sse" if sys.argv[2:] == ["sse"] else "streamable-http"
    server.run(transport, host="127.0.0.1", port=int(sys.argv[1]))
