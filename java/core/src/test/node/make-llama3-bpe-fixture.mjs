// Builds java/core/src/test/resources/tokenizer/llama3-bpe-cases.json, the fixture of
// ByteLevelBpeLlama3Test, from the npm package llama3-tokenizer-js 1.2.0 (MIT), which embeds the
// Llama 3 vocabulary and merge list and whose own tests hold Llama 3 tokenizer outputs.
//
//   npm pack llama3-tokenizer-js@1.2.0 && tar xzf llama3-tokenizer-js-1.2.0.tgz
//   node make-llama3-bpe-fixture.mjs package/bundle/llama3-tokenizer-with-baked-data.js llama3-bpe-cases.json
//
// The fixture is a Hugging Face tokenizer.json cut down to what the test texts can reach, plus the
// cases. Byte-level BPE merges adjacent symbols inside one pre-token, so every merge that can fire
// while encoding a text produces a substring of one of its pre-tokens (in the byte-to-unicode
// alphabet); keeping exactly those merges, in their original order, and the vocabulary entries that
// are such substrings encodes the texts as the full 128k vocabulary does, in a few KB.
import { pathToFileURL } from 'node:url';
import fs from 'node:fs';

const mod = await import(pathToFileURL(process.argv[2]).href);
const tok = mod.default;
tok.runTests(); // the package's own cases must pass against its data before we reuse them

// the package's encode-and-decode cases (no BOS/EOS): their expected ids are Llama 3 tokenizer outputs
const src = fs.readFileSync(process.argv[2], 'utf8');
const texts = [];
for (const m of src.matchAll(/testEncodeAndDecode\(((?:"(?:[^"\\]|\\.)*")|(?:'(?:[^'\\]|\\.)*')),/g)) {
  texts.push(new Function('return ' + m[1])()); // a JS string literal from the package's own test code (may hold raw tabs)
}

const PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const jsPattern = new RegExp(PATTERN.replace("(?i:'s|'t|'re|'ve|'m|'ll|'d)", "(?:'([sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))"), 'gu');
// GPT-2's byte-to-unicode alphabet
const b2u = [];
{
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    b2u[b] = String.fromCharCode(printable ? b : 256 + n++);
  }
}
const enc = new TextEncoder();
const specials = new Map();
tok.vocabById.forEach((t, id) => { if (id >= 128000) specials.set(t, id); });
const specialRe = new RegExp([...specials.keys()].map(s => s.replace(/[|[\]]/g, '\\$&')).join('|'), 'g');

const words = new Set();
const cases = [];
const usedSpecials = new Map();
for (const text of texts) {
  for (const part of text.split(specialRe)) {
    for (const m of part.matchAll(jsPattern)) words.add(Array.from(enc.encode(m[0]), b => b2u[b]).join(''));
  }
  for (const m of text.matchAll(specialRe)) usedSpecials.set(m[0], specials.get(m[0]));
  cases.push({ text, ids: tok.encode(text, { bos: false, eos: false }) });
}
const isSub = s => { for (const w of words) if (w.includes(s)) return true; return false; };
const vocab = {};
tok.vocabById.forEach((t, id) => { if (id < 128000 && (id < 256 || isSub(t))) vocab[t] = id; });
const merges = [];
for (const [pair] of [...tok.merges.entries()].sort((x, y) => x[1] - y[1])) {
  const [a, b] = pair.split(' ');
  if (isSub(a + b)) merges.push(pair);
}
const tokenizer = {
  version: '1.0',
  added_tokens: [...usedSpecials.entries(), ['<|begin_of_text|>', 128000]].map(([content, id]) => ({ id, content, special: true })),
  pre_tokenizer: { type: 'Sequence', pretokenizers: [
    { type: 'Split', pattern: { Regex: PATTERN }, behavior: 'Isolated', invert: false },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] },
  decoder: { type: 'ByteLevel' },
  model: { type: 'BPE', vocab, merges },
};
fs.writeFileSync(process.argv[3], JSON.stringify({
  source: 'llama3-tokenizer-js 1.2.0 (npm, MIT): Llama 3 vocabulary and merges reachable from the texts, the package\'s encode-and-decode cases',
  tokenizer, cases,
}) + '\n'); // (runTests prints on stdout)
