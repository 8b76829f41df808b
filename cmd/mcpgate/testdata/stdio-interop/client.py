"""Interop client (Python `mcp` SDK): runs the fixed script of
stdio_interop_test.go against one server and prints what it saw as JSON.

usage: client.py streamable URL | stdio CMD [ARGS...]
"""

import asyncio
import json
import sys

from mcp import Client, StdioServerParameters


# The last call, to a tool active mode refuses, gets this long to answer.
DENIED_TIMEOUT = 3.0


def text_of(content):
    return "".join(getattr(c, "text", "") for c in content)


async def run(target):
    out = {}
    async with Client(target) as client:
        out["server"] = client.server_info.name if client.server_info else ""
        out["tools"] = sorted(t.name for t in (await client.list_tools()).tools)
        out["prompts"] = sorted(p.name for p in (await client.list_prompts()).prompts)
        resources = (await client.list_resources()).resources
        out["resources"] = sorted(r.name for r in resources)
        out["echo"] = text_of((await client.call_tool("echo", {"message": "interop"})).content)
        out["sum"] = text_of((await client.call_tool("get-sum", {"a": 2, "b": 3})).content)
        prompt = await client.get_prompt("simple-prompt")
        out["prompt"] = prompt.messages[0].content.text
        first = sorted(resources, key=lambda r: r.name)[0]
        contents = (await client.read_resource(first.uri)).contents
        out["resource"] = getattr(contents[0], "text", "")[:60]
        try:
            res = await client.call_tool("get-tiny-image", {}, read_timeout_seconds=DENIED_TIMEOUT)
            out["denied"] = "error" if res.is_error else "ok"
        except Exception as e:  # a JSON-RPC error (refused), or no answer
            out["denied"] = "timeout" if "timed out" in str(e).lower() else "error"
    return out


def main():
    kind, rest = sys.argv[1], sys.argv[2:]
    if kind == "streamable":
        target = rest[0]
    elif kind == "stdio":
        target = StdioServerParameters(command=rest[0], args=rest[1:])
    else:
        sys.exit(f"unknown transport {kind}")
    print(json.dumps(asyncio.run(run(target)), sort_keys=True))


if __name__ == "__main__":
    main()
