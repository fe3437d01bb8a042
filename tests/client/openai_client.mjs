// Drives chat2api with the official openai npm package, the way users'
// apps do.  Usage:
//   node openai_client.mjs BASE_URL API_KEY MODE MODEL PROMPT
// MODE: stream | nonstream | models | completion | completion-stream
// (the last two through the legacy client.completions API).  Prints one
// JSON object with what the SDK saw: content, reasoning, finish_reason,
// usage, or the error.
import OpenAI from "openai";

const [baseURL, apiKey, mode, model, prompt] = process.argv.slice(2);
const client = new OpenAI({
  baseURL,
  apiKey: apiKey || "none",
  maxRetries: 0,
  timeout: 30000,
});

async function main() {
  const out = { mode };
  try {
    if (mode === "models") {
      const list = await client.models.list();
      out.ids = list.data.map((m) => m.id);
    } else if (mode === "stream") {
      const stream = await client.chat.completions.create({
        model,
        messages: [{ role: "user", content: prompt }],
        stream: true,
        stream_options: { include_usage: true },
      });
      out.content = "";
      out.reasoning = "";
      out.chunks = 0;
      for await (const chunk of stream) {
        out.chunks++;
        out.id = chunk.id;
        out.model = chunk.model;
        if (chunk.usage) out.usage = chunk.usage;
        const c = chunk.choices[0];
        if (!c) continue;
        if (c.delta.role) out.role = c.delta.role;
        if (c.delta.content) out.content += c.delta.content;
        if (c.delta.reasoning_content) out.reasoning += c.delta.reasoning_content;
        if (c.finish_reason) out.finish_reason = c.finish_reason;
      }
    } else if (mode === "completion-stream") {
      const stream = await client.completions.create({
        model,
        prompt,
        stream: true,
        stream_options: { include_usage: true },
      });
      out.content = "";
      out.chunks = 0;
      for await (const chunk of stream) {
        out.chunks++;
        out.id = chunk.id;
        out.object = chunk.object;
        if (chunk.usage) out.usage = chunk.usage;
        const c = chunk.choices[0];
        if (!c) continue;
        if (c.text) out.content += c.text;
        if (c.finish_reason) out.finish_reason = c.finish_reason;
      }
    } else if (mode === "completion") {
      const r = await client.completions.create({ model, prompt });
      out.id = r.id;
      out.object = r.object;
      out.model = r.model;
      out.content = r.choices[0].text;
      out.finish_reason = r.choices[0].finish_reason;
      out.usage = r.usage;
    } else {
      const r = await client.chat.completions.create({
        model,
        messages: [{ role: "user", content: prompt }],
      });
      out.id = r.id;
      out.object = r.object;
      out.model = r.model;
      out.content = r.choices[0].message.content;
      out.reasoning = r.choices[0].message.reasoning_content || "";
      out.finish_reason = r.choices[0].finish_reason;
      out.usage = r.usage;
    }
  } catch (e) {
    out.error = {
      name: e.constructor.name,
      status: e.status ?? null,
      code: e.code ?? null,
      type: e.type ?? null,
      message: String(e.message),
    };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

main();
