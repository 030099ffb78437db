// A second, independent ACP client for agent-lsp: the official TypeScript SDK
// (@agentclientprotocol/sdk) starts `agent-lsp acp` over stdio, opens a session, sends one prompt,
// answers the permission question it raises with "allow once", and prints what it saw as one
// JSON line on stdout for tests/acp/test_typescript_client.py to check.
//
// Usage: node client.mjs WORKSPACE PROMPT -- AGENT_COMMAND [ARGS...]

import { spawn } from "node:child_process";
import { Readable, Writable } from "node:stream";
import { client, methods, ndJsonStream, PROTOCOL_VERSION } from "@agentclientprotocol/sdk";

const [workspace, promptText, separator, command, ...args] = process.argv.slice(2);
if (separator !== "--" || !command) {
  console.error("usage: node client.mjs WORKSPACE PROMPT -- AGENT_COMMAND [ARGS...]");
  process.exit(2);
}

const agentProcess = spawn(command, args, { cwd: workspace, stdio: ["pipe", "pipe", "inherit"] });
const exited = new Promise((resolve) => agentProcess.on("exit", (code, signal) => resolve({ code, signal })));
const stream = ndJsonStream(Writable.toWeb(agentProcess.stdin), Readable.toWeb(agentProcess.stdout));

const seen = { permissionRequests: [], text: "", toolStatuses: [], updateKinds: [] };

const app = client({ name: "agent-lsp-ts-test" })
  .onRequest(methods.client.session.requestPermission, ({ params }) => {
    seen.permissionRequests.push({
      title: params.toolCall.title,
      kind: params.toolCall.kind,
      content: params.toolCall.content,
      options: params.options.map((option) => option.kind),
    });
    const allowOnce = params.options.find((option) => option.kind === "allow_once");
    return { outcome: { outcome: "selected", optionId: allowOnce.optionId } };
  })
  .onNotification(methods.client.session.update, ({ params }) => {
    const update = params.update;
    seen.updateKinds.push(update.sessionUpdate);
    if (update.sessionUpdate === "agent_message_chunk" && update.content.type === "text") {
      seen.text += update.content.text;
    }
    if (update.sessionUpdate === "tool_call_update" && update.status) {
      seen.toolStatuses.push(update.status);
    }
  });

const result = await app.connectWith(stream, async (agent) => {
  const initialized = await agent.request(methods.agent.initialize, {
    protocolVersion: PROTOCOL_VERSION,
    clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false },
    clientInfo: { name: "agent-lsp-ts-test", version: "1" },
  });
  const session = await agent.request(methods.agent.session.new, { cwd: workspace, mcpServers: [] });
  const response = await agent.request(methods.agent.session.prompt, {
    sessionId: session.sessionId,
    prompt: [{ type: "text", text: promptText }],
  });
  return { initialized, sessionId: session.sessionId, response };
});

agentProcess.stdin.end();
const exit = await exited;
console.log(JSON.stringify({
  protocolVersion: result.initialized.protocolVersion,
  agentName: result.initialized.agentInfo?.name,
  loadSession: result.initialized.agentCapabilities?.loadSession,
  sessionId: result.sessionId,
  stopReason: result.response.stopReason,
  usage: result.response.usage ?? null,
  exit,
  ...seen,
}));
