// OpenAiClientTest's client: the official `openai` npm package (native/openai-client/install.sh) against
// `entrollm serve`. Prints one JSON object: what each call returned, so the Java test can check it.
// Usage: node client.mjs BASE_URL (e.g. http://127.0.0.1:8080/v1)
import OpenAI from "openai";

const client = new OpenAI({baseURL: process.argv[2], apiKey: "unused", maxRetries: 0});
const models = await client.models.list();
const model = models.data[0].id;
const messages = [{role: "user", content: "The state of the Union"}];
const chat = await client.chat.completions.create({model, messages, max_tokens: 8, temperature: 0});
const stream = await client.chat.completions.create({model, messages, max_tokens: 8, temperature: 0, stream: true});
let streamed = "", chunks = 0, streamFinish = null;
for await (const chunk of stream) {
    chunks++;
    streamed += chunk.choices[0]?.delta?.content ?? "";
    streamFinish = chunk.choices[0]?.finish_reason ?? streamFinish;
}
const completion = await client.completions.create({model, prompt: "The Congress", max_tokens: 5, temperature: 0});
let error = null;
try {
    await client.chat.completions.create({model, messages: "not a list"});
} catch (e) {
    error = {status: e.status ?? null, message: e.message};
}
console.log(JSON.stringify({
    model, chat: chat.choices[0].message.content, chatFinish: chat.choices[0].finish_reason, usage: chat.usage,
    streamed, chunks, streamFinish, completion: completion.choices[0].text, error,
}));
