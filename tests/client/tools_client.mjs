// The tool loop of the official openai npm package against chat2api, as
// an app runs it: ask with `tools`, run the functions the answer calls,
// send their results back as `tool` messages, print the final answer.
// Usage:
//   node tools_client.mjs BASE_URL API_KEY stream|nonstream MODEL PROMPT [EXTRA_JSON]
// EXTRA_JSON is merged into the first request (tool_choice,
// parallel_tool_calls ...); {"loop": false} stops after the first answer.
// Prints one JSON object: the calls of the first answer, its content and
// finish_reason, then the final answer's.
import OpenAI from "openai";

const [baseURL, apiKey, mode, model, prompt, extraJson] = process.argv.slice(2);
const extra = extraJson ? JSON.parse(extraJson) : {};
const loop = extra.loop !== false;
delete extra.loop;
const client = new OpenAI({ baseURL, apiKey: apiKey || "none", maxRetries: 0,
  timeout: 30000 });

const tools = [
  { type: "function", function: { name: "get_weather",
    description: "The current weather of a city.",
    parameters: { type: "object", properties: { city: { type: "string" } },
      required: ["city"] } } },
  { type: "function", function: { name: "get_time",
    description: "The local time of a city.",
    parameters: { type: "object", properties: { city: { type: "string" } },
      required: ["city"] } } },
];

// What our functions answer.
function run(name, args) {
  const a = JSON.parse(args);
  return name === "get_weather" ? `sunny, 21C in ${a.city}` :
    `10:42 in ${a.city}`;
}

// One request; the stream is put back together as the SDK docs show.
async function ask(messages, more) {
  const body = { model, messages, tools, ...more };
  if (mode !== "stream") {
    const r = await client.chat.completions.create(body);
    const c = r.choices[0];
    return { content: c.message.content, calls: c.message.tool_calls || [],
      finish: c.finish_reason };
  }
  const stream = await client.chat.completions.create({ ...body,
    stream: true });
  let content = null, finish = null;
  const calls = [];
  for await (const chunk of stream) {
    const c = chunk.choices[0];
    if (!c) continue;
    if (c.delta.content) content = (content || "") + c.delta.content;
    for (const t of c.delta.tool_calls || []) {
      if (!calls[t.index]) {
        calls[t.index] = { id: t.id, type: t.type,
          function: { name: t.function.name, arguments: "" } };
      }
      calls[t.index].function.arguments += t.function.arguments || "";
    }
    if (c.finish_reason) finish = c.finish_reason;
  }
  return { content, calls, finish };
}

async function main() {
  const out = { mode };
  try {
    const messages = [{ role: "user", content: prompt }];
    const first = await ask(messages, extra);
    out.content1 = first.content;
    out.finish1 = first.finish;
    out.calls = first.calls.map((c) => ({ id: c.id, type: c.type,
      name: c.function.name, arguments: c.function.arguments }));
    if (loop && first.calls.length > 0) {
      messages.push({ role: "assistant", content: first.content,
        tool_calls: first.calls });
      for (const c of first.calls) {
        messages.push({ role: "tool", tool_call_id: c.id,
          content: run(c.function.name, c.function.arguments) });
      }
      const second = await ask(messages, {});
      out.content2 = second.content;
      out.finish2 = second.finish;
      out.calls2 = second.calls.length;
    }
  } catch (e) {
    out.error = { status: e.status, message: e.message,
      param: e.param ?? e.error?.param, code: e.code ?? e.error?.code };
  }
  console.log(JSON.stringify(out));
}

main();
