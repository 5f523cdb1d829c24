#!/usr/bin/env python3
"""Tiny random-weight models of the Llama-family architectures we have no real weights for, with
reference outputs from Hugging Face transformers (fp32), as test fixtures for the Java forward pass.

Run on a machine with PyTorch and transformers (the GPU machine has both), from the repository root:
    python3 test-models/synthetic/make_reference.py test-models/synthetic
It writes one folder per model (config.json, model.safetensors, reference.json); commit them.
ReferenceArchitecturesTest then compares our CPU (and GPU) forward passes with them.
"""
import json
import os
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM, LlamaConfig, MistralConfig, Phi3Config, Qwen2Config

OUT = sys.argv[1] if len(sys.argv) > 1 else "test-models/synthetic"
COMMON = dict(vocab_size=512, hidden_size=64, intermediate_size=192, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, max_position_embeddings=256, rms_norm_eps=1e-5, tie_word_embeddings=False,
              bos_token_id=0, eos_token_id=1, pad_token_id=2)
CONFIGS = {
    "mistral-tiny": MistralConfig(**COMMON, sliding_window=None),
    "qwen2-tiny": Qwen2Config(**COMMON),                      # q/k/v biases
    "phi3-tiny": Phi3Config(**COMMON),                        # fused qkv_proj and gate_up_proj
    "llama3-tiny": LlamaConfig(**COMMON, rope_theta=500000.0, rope_scaling={
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 32}),
}

for name, config in CONFIGS.items():
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, torch_dtype=torch.float32).eval()
    with torch.no_grad():  # every parameter random (biases and norms too), so each one is tested
        for pname, p in model.named_parameters():
            p.copy_(torch.randn_like(p) * 0.08 + (1.0 if "norm" in pname else 0.0))
    folder = os.path.join(OUT, name)
    model.save_pretrained(folder, safe_serialization=True)
    g = torch.Generator().manual_seed(1)
    prompts = []
    for length in (7, 40):
        ids = torch.randint(3, config.vocab_size, (1, length), generator=g)
        with torch.no_grad():
            logits = model(ids).logits[0, -1].tolist()
            greedy = model.generate(ids, max_new_tokens=16, do_sample=False, eos_token_id=None, pad_token_id=2)[0, length:].tolist()
        prompts.append({"ids": ids[0].tolist(), "last_logits": [round(v, 6) for v in logits], "greedy16": greedy})
    with open(os.path.join(folder, "reference.json"), "w") as f:
        json.dump({"model": name, "transformers": transformers.__version__, "compute": "fp32", "prompts": prompts}, f)
    print("wrote", folder)
