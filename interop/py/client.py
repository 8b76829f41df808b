"""The Python `mcp` SDK client of the interop matrix.

    python client.py streamable|sse URL RESOURCE_URI

Runs a fixed script (connect, tools/list, three tool calls, prompts/list,
resources/list, resources/read RESOURCE_URI) and prints on stdout one JSON
transcript of what the SDK handed to the application, in the same shape as
../ts/client.mjs. Errors are recorded as {code, message}; nothing that varies
between runs (session ids, timestamps) is recorded. The client connects the
way the SDK does by default (mode "auto": server/discover, then initialize).
"""

import asyncio
import json
import sys

from mcp.client import Client
from mcp.client.sse import sse_client
from mcp.shared.exceptions import MCPError

# The calls every client makes, in order; the matrix test knows them too.
CALLS = [
    ("echo", {"message": "hello interop"}),
    ("get-sum", {"a": 2, "b": 3}),
    ("secret_admin", {}),
]


def rpc_error(e: BaseException) -> dict:
    if isinstance(e, MCPError):
        return {"code": e.code, "message": e.message}
    return {"code": 0, "message": f"{type(e).__name__}: {e}"}


async def attempt(fn):
    try:
        return await fn()
    except Exception as e:  # noqa: BLE001 - the transcript records every failure
        return {"error": rpc_error(e)}


def dump(model) -> dict:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


async def run(kind: str, url: str, resource_uri: str) -> dict:
    server = sse_client(url) if kind == "sse" else url
    out: dict = {}
    # A request left unanswered is recorded as a timeout error rather than
    # hanging the matrix.
    async with Client(server, read_timeout_seconds=20) as client:
        info = client.server_info
        out["server"] = {
            "name": info.name if info else "",
            "version": info.version if info else "",
            "protocolVersion": client.protocol_version,
        }

        async def tools():
            res = await client.list_tools()
            items = [{"name": t.name, "description": t.description or ""} for t in res.tools]
            return {"items": sorted(items, key=lambda i: i["name"])}

        out["tools"] = await attempt(tools)
        out["calls"] = []
        for name, args in CALLS:

            async def call(name=name, args=args):
                r = await client.call_tool(name, args)
                result = {"content": [dump(c) for c in r.content], "isError": bool(r.is_error)}
                if r.structured_content is not None:
                    result["structuredContent"] = r.structured_content
                return {"result": result}

            out["calls"].append({"tool": name, **await attempt(call)})

        async def prompts():
            res = await client.list_prompts()
            items = [{"name": p.name, "description": p.description or ""} for p in res.prompts]
            return {"items": sorted(items, key=lambda i: i["name"])}

        async def resources():
            res = await client.list_resources()
            return {"items": [{"uri": str(r.uri), "name": r.name} for r in res.resources]}

        async def read():
            res = await client.read_resource(resource_uri)
            contents = []
            for c in res.contents:
                d = dump(c)
                contents.append(
                    {
                        "uri": str(d.get("uri", "")),
                        "mimeType": d.get("mimeType", ""),
                        "text": d.get("text", ""),
                        "blob": d.get("blob", ""),
                    }
                )
            return {"contents": contents}

        out["prompts"] = await attempt(prompts)
        out["resources"] = await attempt(resources)
        out["read"] = await attempt(read)
    return out


def main() -> None:
    if len(sys.argv) != 4 or sys.argv[1] not in ("streamable", "sse"):
        sys.exit("usage: python client.py streamable|sse URL RESOURCE_URI")
    try:
        out = asyncio.run(run(*sys.argv[1:]))
    except Exception as e:  # noqa: BLE001
        out = {"connect": rpc_error(e)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
