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
  // responses.create non-stream, then a second turn on previous_response_id
  async "rsp-create"() {
    const c = openai();
    const tools = [{ type: "function", name: "get_weather",
      description: "The current weather of a city.", parameters: weatherSchema }];
    const first = await c.responses.create({ model, input: prompt, tools,
      instructions: "Be brief." });
    const calls = first.output.filter((i) => i.type === "function_call");
    const second = await c.responses.create({ model, tools,
      previous_response_id: first.id,
      input: calls.map((k) => ({ type: "function_call_output", call_id: k.call_id,
        output: weather(JSON.parse(k.arguments).city) })) });
    return { id1: first.id, status1: first.status, calls: calls.map((k) => ({
      name: k.name, call_id: k.call_id, arguments: k.arguments })),
    text1: first.output_text, id2: second.id, status2: second.status,
    text2: second.output_text, usage2: second.usage };
  },
  // responses.create stream: the events as the SDK yields them
  async "rsp-stream"() {
    const c = openai();
    const stream = await c.responses.create({ model, input: prompt, stream: true,
      reasoning: { effort: "medium", summary: "auto" } });
    const types = [];
    let text = "", summary = "", final = null;
    for await (const e of stream) {
      types.push(e.type);
      if (e.type === "response.output_text.delta") text += e.delta;
      if (e.type === "response.reasoning_summary_text.delta") summary += e.delta;
      if (e.type === "response.completed") final = e.response;
    }
    const again = await c.responses.retrieve(final.id);
    return { types, text, summary, status: final.status, output: final.output.map(
      (i) => i.type), retrieved: again.id === final.id && again.status, usage: final.usage };
  },
  // the Vercel AI SDK's default provider (the Responses API), with a tool
  async "ai-generate"() {
    const provider = createOpenAI({ baseURL: root + "/v1", apiKey });
    const r = await generateText({ model: provider(model), prompt,
      tools: { get_weather: tool({ description: "The current weather of a city.",
        inputSchema: jsonSchema(weatherSchema),
        execute: async ({ city }) => weather(city) }) },
      stopWhen: stepCountIs(3), maxRetries: 0 });
    return { text: r.text, finish: r.finishReason, steps: r.steps.length,
      calls: r.steps[0].toolCalls.map((k) => ({ name: k.toolName, input: k.input })),
      results: r.steps[0].toolResults.map((k) => k.output), usage: r.totalUsage };
  },
  async "ai-stream"() {
    const provider = createOpenAI({ baseURL: root + "/v1", apiKey });
    let err = null;
    const r = streamText({ model: provider(model), prompt,
      tools: { get_weather: tool({ description: "The current weather of a city.",
        inputSchema: jsonSchema(weatherSchema),
        execute: async ({ city }) => weather(city) }) },
      stopWhen: stepCountIs(3), maxRetries: 0, onError: ({ error }) => { err = error; } });
    let text = "";
    for await (const d of r.textStream) text += d;
    const steps = await r.steps;
    if (err) throw err;
    return { text, finish: await r.finishReason, steps: steps.length,
      calls: steps[0].toolCalls.map((k) => ({ name: k.toolName, input: k.input })),
      final: steps[steps.length - 1].text };
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
