#!/usr/bin/env python3
"""Hugging Face transformers' generation speed on a model directory, for the side-by-side row in
docs/BENCHMARKS.md (run in the same session, on the same GPU, as `entrollm run --device gpu`).

    python3 java/bench/src/main/python/hf_generate_bench.py test-models/sotu-tiny --dtype fp16 --tokens 128

Prints prompt and generation tokens/s (greedy, batch 1, KV cache on), median of --repeats runs after
one warm-up, and the GPU name.
"""
import argparse
import statistics
import time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

parser = argparse.ArgumentParser()
parser.add_argument("model")
parser.add_argument("--dtype", choices=["fp16", "bf16", "fp32"], default="fp16")
parser.add_argument("--prompt", default="Fellow-Citizens of the Senate and House of Representatives:")
parser.add_argument("--tokens", type=int, default=128)
parser.add_argument("--repeats", type=int, default=5)
args = parser.parse_args()

dtype = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[args.dtype]
tok = AutoTokenizer.from_pretrained(args.model)
model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=dtype).cuda().eval()
ids = tok(args.prompt, return_tensors="pt").input_ids.cuda()


def timed(fn):
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn()
    torch.cuda.synchronize()
    return time.perf_counter() - t0, out


with torch.no_grad():
    model.generate(ids, max_new_tokens=8, do_sample=False, min_new_tokens=8)  # warm-up
    prefill, gen = [], []
    for _ in range(args.repeats):
        prefill.append(timed(lambda: model(ids))[0])
        seconds, out = timed(lambda: model.generate(ids, max_new_tokens=args.tokens, min_new_tokens=args.tokens, do_sample=False))
        gen.append((out.shape[1] - ids.shape[1]) / seconds)
print(f"{torch.cuda.get_device_name()} | HF transformers {args.dtype} | prompt {ids.shape[1]} tokens: "
      f"{ids.shape[1] / statistics.median(prefill):.1f} tok/s | generation {args.tokens} tokens: {statistics.median(gen):.1f} tok/s "
      f"(median of {args.repeats})")
