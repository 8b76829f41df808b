// Interop client (TypeScript SDK): runs the fixed script of
// stdio_interop_test.go against one server and prints what it saw as JSON.
// NODE_PATH names the node_modules holding @modelcontextprotocol/sdk.
//
// usage: node client.cjs streamable URL | stdio CMD [ARGS...]
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { StreamableHTTPClientTransport } = require("@modelcontextprotocol/sdk/client/streamableHttp.js");
const { StdioClientTransport } = require("@modelcontextprotocol/sdk/client/stdio.js");
const { ErrorCode } = require("@modelcontextprotocol/sdk/types.js");

const textOf = (content) => content.map((c) => c.text || "").join("");

async function main() {
  const [kind, ...rest] = process.argv.slice(2);
  let transport;
  if (kind === "streamable") transport = new StreamableHTTPClientTransport(new URL(rest[0]));
  else if (kind === "stdio") transport = new StdioClientTransport({ command: rest[0], args: rest.slice(1), stderr: "inherit" });
  else throw new Error(`unknown transport ${kind}`);
  const client = new Client({ name: "interop-ts", version: "0" });
  await client.connect(transport);
  const out = {};
  out.server = client.getServerVersion()?.name ?? "";
  out.tools = (await client.listTools()).tools.map((t) => t.name).sort();
  out.prompts = (await client.listPrompts()).prompts.map((p) => p.name).sort();
  const resources = (await client.listResources()).resources;
  out.resources = resources.map((r) => r.name).sort();
  out.echo = textOf((await client.callTool({ name: "echo", arguments: { message: "interop" } })).content);
  out.sum = textOf((await client.callTool({ name: "get-sum", arguments: { a: 2, b: 3 } })).content);
  out.prompt = (await client.getPrompt({ name: "simple-prompt" })).messages[0].content.text;
  const first = [...resources].sort((a, b) => (a.name < b.name ? -1 : 1))[0];
  out.resource = ((await client.readResource({ uri: first.uri })).contents[0].text || "").slice(0, 60);
  try {
    // The last call, to a tool active mode refuses, gets 3 s to answer.
    const res = await client.callTool({ name: "get-tiny-image", arguments: {} }, undefined, { timeout: 3000 });
    out.denied = res.isError ? "error" : "ok";
  } catch (err) {
    // A JSON-RPC error (refused), or no answer. Not by code: the SDK's
    // RequestTimeout is -32001, the code mcpgate refuses a call with.
    out.denied = err.code === ErrorCode.RequestTimeout && /Request timed out/.test(err.message) ? "timeout" : "error";
  }
  await client.close();
  const sorted = Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]]));
  process.stdout.write(JSON.stringify(sorted) + "\n");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
