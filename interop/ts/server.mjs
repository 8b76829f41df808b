// server.mjs: the TypeScript SDK server of the interop matrix.
//
//   node server.mjs PORT [sse]
//
// Serves Streamable HTTP (stateful, one transport per session) on
// 127.0.0.1:PORT/mcp, or with "sse" the 2024-11-05 HTTP+SSE transport on
// 127.0.0.1:PORT/sse, with an echo tool, a secret_admin tool, a prompt and a
// resource. Each tool execution is appended as a line "tool <name>" to the
// file named by INTEROP_EXEC_LOG (if set), so a test can tell whether a
// smuggled call reached the tool. Prints "listening on PORT" to stderr.
import { appendFileSync } from "node:fs";
import { createServer } from "node:http";
import { randomUUID } from "node:crypto";
import { load } from "./sdk.mjs";

const { McpServer } = load("@modelcontextprotocol/sdk/server/mcp.js");
const { StreamableHTTPServerTransport } = load("@modelcontextprotocol/sdk/server/streamableHttp.js");
const { SSEServerTransport } = load("@modelcontextprotocol/sdk/server/sse.js");
const { isInitializeRequest } = load("@modelcontextprotocol/sdk/types.js");
const z = load("zod");

const port = Number(process.argv[2]);
const legacy = process.argv[3] === "sse";
if (!Number.isInteger(port) || port <= 0 || process.argv.length > (legacy ? 4 : 3)) {
  console.error("usage: node server.mjs PORT [sse]");
  process.exit(2);
}

function executed(name) {
  if (process.env.INTEROP_EXEC_LOG) appendFileSync(process.env.INTEROP_EXEC_LOG, `tool ${name}\n`);
}

function newServer() {
  const server = new McpServer({ name: "interop-ts-server", version: "1.0.0" });
  server.registerTool(
    "echo",
    { description: "Echoes the message back.", inputSchema: { message: z.string() } },
    async ({ message }) => {
      executed("echo");
      return { content: [{ type: "text", text: `echo: ${message}` }] };
    },
  );
  server.registerTool(
    "secret_admin",
    { description: "Administrative operation that policy keeps from clients.", inputSchema: {} },
    async () => {
      executed("secret_admin");
      return { content: [{ type: "text", text: "secret_admin ran" }] };
    },
  );
  server.registerPrompt(
    "greeting",
    { description: "A friendly greeting.", argsSchema: { name: z.string() } },
    ({ name }) => ({ messages: [{ role: "user", content: { type: "text", text: `Hello, ${name}!` } }] }),
  );
  server.registerResource(
    "note",
    "interop://note",
    { description: "A short note.", mimeType: "text/plain" },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: "text/plain", text: "interop note" }] }),
  );
  return server;
}

const transports = new Map();

async function readJSON(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString("utf8");
  return text === "" ? undefined : JSON.parse(text);
}

// The 2024-11-05 HTTP+SSE transport: GET /sse opens a session's stream,
// whose endpoint event names /message?sessionId=… for the POSTs.
const sseSessions = new Map();

async function serveSSE(req, res) {
  const url = new URL(req.url, "http://localhost");
  if (req.method === "GET" && url.pathname === "/sse") {
    const transport = new SSEServerTransport("/message", res);
    sseSessions.set(transport.sessionId, transport);
    res.on("close", () => sseSessions.delete(transport.sessionId));
    await newServer().connect(transport);
    return;
  }
  const transport = sseSessions.get(url.searchParams.get("sessionId"));
  if (req.method !== "POST" || url.pathname !== "/message" || !transport) {
    res.writeHead(404).end();
    return;
  }
  await transport.handlePostMessage(req, res);
}

const http = createServer(async (req, res) => {
  try {
    if (legacy) {
      await serveSSE(req, res);
      return;
    }
    if (!req.url.startsWith("/mcp")) {
      res.writeHead(404).end();
      return;
    }
    const sid = req.headers["mcp-session-id"];
    let body;
    if (req.method === "POST") {
      try {
        body = await readJSON(req);
      } catch {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } }));
        return;
      }
    }
    let transport = sid ? transports.get(sid) : undefined;
    if (!transport) {
      if (sid || req.method !== "POST" || !isInitializeRequest(body)) {
        res.writeHead(sid ? 404 : 400, { "content-type": "application/json" });
        res.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32000, message: "no valid session" } }));
        return;
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => transports.set(id, transport),
      });
      transport.onclose = () => transport.sessionId && transports.delete(transport.sessionId);
      await newServer().connect(transport);
    }
    await transport.handleRequest(req, res, body);
  } catch (e) {
    console.error("request failed:", e);
    if (!res.headersSent) res.writeHead(500).end();
  }
});

http.listen(port, "127.0.0.1", () => console.error(`listening on ${port}`));
