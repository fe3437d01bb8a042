// The other two dialects' official clients against chat2api, unmodified:
// @anthropic-ai/sdk (POST /v1/messages), the openai package's Responses
// API (POST /v1/responses) and the Vercel AI SDK's default OpenAI
// provider (which calls /v1/responses too).
// Usage:
//   node dialects_client.mjs BASE_URL API_KEY CASE MODEL PROMPT
// BASE_URL is the server's root (http://host:port).  Prints one JSON
// object with what the case saw, or {"error": ...}.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { generateText, streamText, tool, jsonSchema, stepCountIs } from "ai";
import { createOpenAI } from "@ai-sdk/openai";

const [root, apiKey, kase, model, prompt] = process.argv.slice(2);

const weatherSchema = { type: "object", properties: { city: { type: "string" } },
  required: ["city"] };

function weather(city) {
  return `sunny, 21C in ${city}`;
}

function anthropic() {
  return new Anthropic({ baseURL: root, apiKey, maxRetries: 0, timeout: 30000 });
}

function openai() {
  return new OpenAI({ baseURL: root + "/v1", apiKey, maxRetries: 0, timeout: 30000 });
}

// The message's blocks as the tests compare them.
function blocks(msg) {
  return msg.content.map((b) => ({ type: b.type, text: b.text, thinking: b.thinking,
    name: b.name, input: b.input, id: b.id }));
}

const cases = {
  // messages.create, non-stream
  async "ant-create"() {
    const m = await anthropic().messages.create({ model, max_tokens: 1024,
      system: "Be brief.", messages: [{ role: "user", content: prompt }] });
    return { id: m.id, stop_reason: m.stop_reason, blocks: blocks(m), usage: m.usage };
  },
  // messages.stream with thinking: the helper's events and final message
  async "ant-stream"() {
    const seen = [];
    let text = "", thinking = "";
    const s = anthropic().messages.stream({ model, max_tokens: 2048,
      thinking: { type: "enabled", budget_tokens: 1024 },
      messages: [{ role: "user", content: prompt }] });
    s.on("streamEvent", (e) => seen.push(e.type));
    s.on("text", (d) => { text += d; });
    s.on("thinking", (d) => { thinking += d; });
    const m = await s.finalMessage();
    return { stop_reason: m.stop_reason, blocks: blocks(m), text, thinking, events: seen,
      usage: m.usage };
  },
  // the tool loop, as an agent runs it: call, result, final answer
  async "ant-tools"() {
    const c = anthropic();
    const tools = [{ name: "get_weather", description: "The current weather of a city.",
      input_schema: weatherSchema }];
    const messages = [{ role: "user", content: prompt }];
    const first = await c.messages.stream({ model, max_tokens: 1024, tools,
      messages }).finalMessage();
    const uses = first.content.filter((b) => b.type === "tool_use");
    messages.push({ role: "assistant", content: first.content });
    messages.push({ role: "user", content: uses.map((u) => ({ type: "tool_result",
      tool_use_id: u.id, content: weather(u.input.city) })) });
    const second = await c.messages.create({ model, max_tokens: 1024, tools, messages });
    return { stop1: first.stop_reason, uses: uses.map((u) => ({ id: u.id, name: u.name,
      input: u.input })), stop2: second.stop_reason, blocks2: blocks(second) };
  },
};

async function main() {
  let out;
  try {
    out = await cases[kase]();
  } catch (e) {
    out = { error: String(e && e.stack || e).slice(0, 1500), status: e && e.status };
  }
  console.log(JSON.stringify(out));
}

main();
