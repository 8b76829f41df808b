// client.mjs: the TypeScript SDK client of the interop matrix.
//
//   node client.mjs streamable|sse URL RESOURCE_URI
//
// Runs a fixed script (initialize, tools/list, three tool calls,
// prompts/list, resources/list, resources/read RESOURCE_URI) and prints on
// stdout one JSON transcript of what the SDK handed to the application.
// Errors are recorded as {code, message}; nothing that varies between runs
// (session ids, timestamps) is recorded.
import { load } from "./sdk.mjs";

const { Client } = load("@modelcontextprotocol/sdk/client/index.js");
const { StreamableHTTPClientTransport } = load("@modelcontextprotocol/sdk/client/streamableHttp.js");
const { SSEClientTransport } = load("@modelcontextprotocol/sdk/client/sse.js");

const [kind, url, resourceURI] = process.argv.slice(2);
if (!["streamable", "sse"].includes(kind) || !url || !resourceURI) {
  console.error("usage: node client.mjs streamable|sse URL RESOURCE_URI");
  process.exit(2);
}

// The calls every client makes, in order; the matrix test knows them too.
const calls = [
  ["echo", { message: "hello interop" }],
  ["get-sum", { a: 2, b: 3 }],
  ["secret_admin", {}],
];

function rpcError(e) {
  // McpError prefixes its message with "MCP error <code>: "; the
  // application-visible text is what follows.
  if (typeof e?.code === "number") {
    return { code: e.code, message: String(e.message).replace(/^MCP error -?\d+: /, "") };
  }
  return { code: 0, message: String(e?.message ?? e) };
}

async function attempt(fn) {
  try {
    return await fn();
  } catch (e) {
    return { error: rpcError(e) };
  }
}

// A request left unanswered is recorded as a timeout error rather than
// hanging the matrix for the SDK's default minute.
const opts = { timeout: 20000 };

const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

const transport = kind === "sse" ? new SSEClientTransport(new URL(url)) : new StreamableHTTPClientTransport(new URL(url));
// The SDK tells the transport the negotiated protocol version and keeps it
// to itself otherwise; record it on the way.
let protocolVersion = "";
const setProtocolVersion = transport.setProtocolVersion?.bind(transport);
transport.setProtocolVersion = (v) => {
  protocolVersion = v;
  setProtocolVersion?.(v);
};
const client = new Client({ name: "interop-ts", version: "0" });
const out = {};
try {
  await client.connect(transport);
} catch (e) {
  console.log(JSON.stringify({ connect: rpcError(e) }));
  process.exit(0);
}
const info = client.getServerVersion();
out.server = { name: info?.name ?? "", version: info?.version ?? "", protocolVersion };
out.tools = await attempt(async () => {
  const res = await client.listTools(undefined, opts);
  return { items: res.tools.map((t) => ({ name: t.name, description: t.description ?? "" })).sort(byName) };
});
out.calls = [];
for (const [name, args] of calls) {
  const res = await attempt(async () => {
    const r = await client.callTool({ name, arguments: args }, undefined, opts);
    const result = { content: r.content ?? [], isError: r.isError === true };
    if (r.structuredContent !== undefined) result.structuredContent = r.structuredContent;
    return { result };
  });
  out.calls.push({ tool: name, ...res });
}
out.prompts = await attempt(async () => {
  const res = await client.listPrompts(undefined, opts);
  return { items: res.prompts.map((p) => ({ name: p.name, description: p.description ?? "" })).sort(byName) };
});
out.resources = await attempt(async () => {
  const res = await client.listResources(undefined, opts);
  return { items: res.resources.map((r) => ({ uri: r.uri, name: r.name })) };
});
out.read = await attempt(async () => {
  const res = await client.readResource({ uri: resourceURI }, opts);
  return { contents: res.contents.map((c) => ({ uri: c.uri, mimeType: c.mimeType ?? "", text: c.text ?? "", blob: c.blob ?? "" })) };
});
await client.close();
console.log(JSON.stringify(out));
process.exit(0);
