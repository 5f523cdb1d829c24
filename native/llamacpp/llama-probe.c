/*
 * llama-probe: the few things EntroLLM-J's interop tests ask of llama.cpp itself, through libllama's and
 * libggml's C API (the prebuilt CPU libraries of the npm package node-llama-cpp, installed by
 * native/llamacpp/install.sh; nothing of llama.cpp is in this repository). Each command prints its
 * answer on stdout (or writes OUT) and exits 0; any failure prints one line on stderr and exits 1.
 *
 *   llama-probe quantize IN.gguf OUT.gguf FTYPE PURE   llama_model_quantize (FTYPE: llama_ftype number;
 *                                                      PURE 1: every matrix in that type, 0: llama.cpp's mix)
 *   llama-probe tokenize MODEL.gguf TEXT                token ids as llama.cpp's tokenizer gives them
 *   llama-probe greedy MODEL.gguf N ID...               the N tokens llama.cpp generates greedily after ID...
 *   llama-probe logits MODEL.gguf OUT ID...             float32 logits of every position (little-endian,
 *                                                      position-major: n_ids x n_vocab) into OUT
 *   llama-probe dequant MODEL.gguf OUTDIR               every tensor through ggml's own to_float, one file
 *                                                      of float32 per tensor named after it, in OUTDIR
 */
#include "llama.h"
#include "ggml.h"
#include "ggml-backend.h"
#include "gguf.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what) {
    fprintf(stderr, "llama-probe: %s\n", what);
    return 1;
}

static void quiet(enum ggml_log_level level, const char *text, void *user) {
    (void) user;
    if (level >= GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

/* The CPU backends (one library per instruction set) lie beside this program, in bins/. */
static void load_backends(const char *argv0) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", argv0);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/bins", dirname(buf));
    ggml_backend_load_all_from_path(dir);
}

static bool no_progress(float progress, void *user) {
    (void) progress;
    (void) user;
    return true;
}

static struct llama_model *load(const char *path) {
    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    mp.progress_callback = no_progress;  /* the default prints dots on stderr */
    return llama_model_load_from_file(path, mp);
}

static struct llama_context *context(struct llama_model *model, int n_tokens) {
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = n_tokens < 256 ? 256 : (uint32_t) n_tokens;
    cp.n_batch = cp.n_ctx;
    cp.n_ubatch = cp.n_ctx;
    cp.n_threads = 2;
    cp.n_threads_batch = 2;
    cp.no_perf = true;
    return llama_init_from_model(model, cp);
}

static int parse_ids(int argc, char **argv, int from, llama_token **ids) {
    int n = argc - from;
    *ids = malloc(sizeof(llama_token) * (n > 0 ? n : 1));
    for (int i = 0; i < n; i++) (*ids)[i] = (llama_token) atoi(argv[from + i]);
    return n;
}

/* Decodes ids[0..n) as one batch at positions 0..n-1, asking for the logits of every position (all) or the last. */
static int decode(struct llama_context *ctx, const llama_token *ids, int n, int all) {
    struct llama_batch batch = llama_batch_init(n, 0, 1);
    for (int i = 0; i < n; i++) {
        batch.token[i] = ids[i];
        batch.pos[i] = i;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i] = (int8_t) (all || i == n - 1);
    }
    batch.n_tokens = n;
    int rc = llama_decode(ctx, batch);
    llama_batch_free(batch);
    return rc;
}

static int argmax(const float *logits, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) if (logits[i] > logits[best]) best = i;
    return best;
}

static int cmd_quantize(int argc, char **argv) {
    if (argc != 6) return fail("usage: quantize IN OUT FTYPE PURE");
    llama_model_quantize_params p = llama_model_quantize_default_params();
    p.ftype = (enum llama_ftype) atoi(argv[4]);
    p.pure = atoi(argv[5]) != 0;
    p.nthread = 2;
    return llama_model_quantize(argv[2], argv[3], &p) == 0 ? 0 : fail("llama_model_quantize failed");
}

static int cmd_tokenize(int argc, char **argv) {
    if (argc != 4) return fail("usage: tokenize MODEL TEXT");
    struct llama_model *model = load(argv[2]);
    if (!model) return fail("the model did not load");
    const struct llama_vocab *vocab = llama_model_get_vocab(model);
    int len = (int) strlen(argv[3]);
    llama_token *ids = malloc(sizeof(llama_token) * (len + 8));
    int n = llama_tokenize(vocab, argv[3], len, ids, len + 8, true, false);
    if (n < 0) return fail("llama_tokenize failed");
    for (int i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
    printf("\n");
    free(ids);
    llama_model_free(model);
    return 0;
}

static int cmd_greedy(int argc, char **argv) {
    if (argc < 5) return fail("usage: greedy MODEL N ID...");
    int steps = atoi(argv[3]);
    llama_token *ids;
    int n = parse_ids(argc, argv, 4, &ids);
    struct llama_model *model = load(argv[2]);
    if (!model) return fail("the model did not load");
    struct llama_context *ctx = context(model, n + steps);
    if (!ctx) return fail("no context");
    int vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    if (decode(ctx, ids, n, 0) != 0) return fail("llama_decode failed on the prompt");
    for (int s = 0; s < steps; s++) {
        llama_token next = argmax(llama_get_logits_ith(ctx, -1), vocab);
        printf(s ? " %d" : "%d", next);
        struct llama_batch one = llama_batch_init(1, 0, 1);
        one.token[0] = next;
        one.pos[0] = n + s;
        one.n_seq_id[0] = 1;
        one.seq_id[0][0] = 0;
        one.logits[0] = 1;
        one.n_tokens = 1;
        int rc = llama_decode(ctx, one);
        llama_batch_free(one);
        if (rc != 0) return fail("llama_decode failed while generating");
    }
    printf("\n");
    llama_free(ctx);
    llama_model_free(model);
    free(ids);
    return 0;
}

static int cmd_logits(int argc, char **argv) {
    if (argc < 5) return fail("usage: logits MODEL OUT ID...");
    llama_token *ids;
    int n = parse_ids(argc, argv, 4, &ids);
    struct llama_model *model = load(argv[2]);
    if (!model) return fail("the model did not load");
    struct llama_context *ctx = context(model, n);
    if (!ctx) return fail("no context");
    int vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    if (decode(ctx, ids, n, 1) != 0) return fail("llama_decode failed");
    FILE *out = fopen(argv[3], "wb");
    if (!out) return fail("cannot write the logits file");
    for (int i = 0; i < n; i++) {
        if (fwrite(llama_get_logits_ith(ctx, i), sizeof(float), (size_t) vocab, out) != (size_t) vocab) return fail("short write");
    }
    if (fclose(out) != 0) return fail("cannot close the logits file");
    llama_free(ctx);
    llama_model_free(model);
    free(ids);
    return 0;
}

static int cmd_dequant(int argc, char **argv) {
    if (argc != 4) return fail("usage: dequant MODEL OUTDIR");
    struct ggml_context *data = NULL;
    struct gguf_init_params params = {false, &data};
    struct gguf_context *gguf = gguf_init_from_file(argv[2], params);
    if (!gguf) return fail("gguf_init_from_file failed");
    /* the file's tensors by name (the context also holds the data blob itself as one more tensor) */
    for (int64_t i = 0; i < gguf_get_n_tensors(gguf); i++) {
        struct ggml_tensor *t = ggml_get_tensor(data, gguf_get_tensor_name(gguf, i));
        if (!t) return fail("a tensor of the file is not in its context");
        const struct ggml_type_traits *traits = ggml_get_type_traits(t->type);
        int64_t n = ggml_nelements(t);
        float *values = malloc(sizeof(float) * (size_t) n);
        if (t->type == GGML_TYPE_F32) memcpy(values, t->data, sizeof(float) * (size_t) n);
        else if (traits->to_float) traits->to_float(t->data, values, n);
        else { fprintf(stderr, "llama-probe: tensor %s: type %s has no to_float\n", ggml_get_name(t), ggml_type_name(t->type)); return 1; }
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[3], ggml_get_name(t));
        FILE *out = fopen(path, "wb");
        if (!out || fwrite(values, sizeof(float), (size_t) n, out) != (size_t) n || fclose(out) != 0) return fail("cannot write a tensor file");
        free(values);
    }
    gguf_free(gguf);
    ggml_free(data);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) return fail("usage: llama-probe quantize|tokenize|greedy|logits|dequant ...");
    llama_log_set(quiet, NULL);
    load_backends(argv[0]);
    llama_backend_init();
    int rc;
    if (!strcmp(argv[1], "quantize")) rc = cmd_quantize(argc, argv);
    else if (!strcmp(argv[1], "tokenize")) rc = cmd_tokenize(argc, argv);
    else if (!strcmp(argv[1], "greedy")) rc = cmd_greedy(argc, argv);
    else if (!strcmp(argv[1], "logits")) rc = cmd_logits(argc, argv);
    else if (!strcmp(argv[1], "dequant")) rc = cmd_dequant(argc, argv);
    else rc = fail("unknown command");
    llama_backend_free();
    return rc;
}
