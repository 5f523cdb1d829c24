# EntroLLM-J build. `make` builds kernels (when nvcc exists), jars and bin/entrollm;
# `make test` runs the test suite (what CI runs); `make demo` runs the main job on the bundled model.

SHELL := /bin/bash
.DEFAULT_GOAL := all

# ---------------------------------------------------------------- Java >= 25
# JAVA_HOME if it is >= 25, else the newest JDK >= 25 under /usr/lib/jvm.
jdk_major = $(shell sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' $(1)/release 2>/dev/null)
JDK_CANDIDATES := $(JAVA_HOME) $(sort $(wildcard /usr/lib/jvm/*))
JDK := $(lastword $(foreach j,$(JDK_CANDIDATES),$(if $(shell test -x $(j)/bin/javac && test 0$(call jdk_major,$(j)) -ge 25 && echo y),$(j))))
# (not needed when ENTROLLM names a dist bundle's launcher: the bench targets then build nothing)
ifeq ($(strip $(JDK)),)
  ifeq ($(origin ENTROLLM),undefined)
    $(error No JDK >= 25 found (looked at JAVA_HOME and /usr/lib/jvm/*). Install one, e.g. Temurin 25, or set JAVA_HOME)
  endif
endif
export JAVA_HOME := $(JDK)
# Maven's own Guava calls sun.misc.Unsafe; JDK 25 warns about it on every run.
export MAVEN_OPTS ?= --sun-misc-unsafe-memory-access=allow
MVN ?= mvn -B -ntp

# ---------------------------------------------------------------- CUDA kernels
NVCC ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
# SASS for each listed architecture, PTX for the lowest (JIT-compiled on newer GPUs).
# A Jetson Nano needs CUDA_ARCHS=53 with JetPack's CUDA 10.2 nvcc; Orin is 87.
CUDA_ARCHS ?= 75 80 86 87 89 90
CUDA_LOWEST := $(firstword $(sort $(CUDA_ARCHS)))
NVCC_FLAGS ?= -O3 -std=c++14 -lineinfo
GENCODE := $(foreach a,$(CUDA_ARCHS),-gencode arch=compute_$(a),code=sm_$(a)) \
           -gencode arch=compute_$(CUDA_LOWEST),code=compute_$(CUDA_LOWEST)
KERNEL_SRC := $(wildcard cuda-kernels/*.cu)
KERNEL_HDR := $(wildcard cuda-kernels/*.cuh)
KERNEL_OUT := target/kernels
FATBINS := $(patsubst cuda-kernels/%.cu,$(KERNEL_OUT)/%.fatbin,$(KERNEL_SRC))

.PHONY: all kernels kernels-sm53 llamacpp openai-client jars test fuzz install test-gpu dist gpu-test-bundle demo clean help bench-cpu bench bench-jetson synth-models

all: kernels jars bin/entrollm native-huffman

help:
	@echo "make            kernels (if nvcc is found) + jars + bin/entrollm + the C decoder loops (target/native)"
	@echo "make kernels    nvcc -> fatbin for CUDA_ARCHS='$(CUDA_ARCHS)'"
	@echo "make test       the test suite: CPU tests, the CUDA simulator's tests, GPU tests on the simulator"
	@echo "make cudasim    the CUDA simulator (native/cudasim) into target/cudasim/"
	@echo "make kernels-sm53  compile every kernel for sm_53 (Jetson Nano) with CUDA 11.8 (fetched once per machine)"
	@echo "make llamacpp   llama.cpp's CPU libraries from npm (node-llama-cpp 3.21.1) + our probe, for the interop tests"
	@echo "make openai-client  the official OpenAI npm client, for the server's end-to-end test"
	@echo "make install    the jars into the local Maven repository (io.entrollm:entrollm-core, entrollm-cuda, ...: see README, Java API)"
	@echo "make fuzz       coverage-guided fuzzing of every file reader (Jazzer), FUZZ_SECONDS=$(FUZZ_SECONDS) per target (FUZZ_TARGETS=...)"
	@echo "make test-gpu   the GPU tests (on a CUDA host)"
	@echo "make dist       self-contained bundle target/carry/entrollm.tgz (jlinked runtime, jars, kernels)"
	@echo "make gpu-test-bundle  the GPU tests runnable without Maven (target/carry/entrollm-gpu-tests.tgz)"
	@echo "make demo       run the main job on the bundled model test-models/sotu-tiny"
	@echo "make bench      the GPU benchmark suite (bench infer + bench decode) into target/bench/ (BENCH_SYNTH=..., BENCH_ARGS=...)"
	@echo "make bench-jetson  the edge profile: 3 GiB budget, compressed + streamed modes (JETSON_BUDGET=...)"
	@echo "make bench-cpu  JMH benchmarks of the CPU Huffman codec and matrix kernels (JMH_ARGS=... passes options)"
	@echo "make clean      remove build outputs"

ifeq ($(strip $(NVCC)),)
kernels:
	@echo "kernels: nvcc not found (set NVCC=/path/to/nvcc); skipping CUDA kernels, the Java build works without them"
else
kernels: $(FATBINS)
endif

include native/cudasim/cudasim.mk
include native/cpu-huffman/cpu-huffman.mk

# The Jetson Nano compile check: every kernel for sm_53 (Maxwell) with CUDA 11.8's nvcc, which
# native/jetson/cuda-11.8-nvcc fetches once per machine from Debian's archive into a cache outside
# the clone. C++14 and no sm_61+ intrinsics without __CUDA_ARCH__ guards, or this fails.
KERNELS_SM53_OUT := target/kernels-sm53
kernels-sm53:
	@nvcc118=$$(native/jetson/cuda-11.8-nvcc) || { echo "kernels-sm53: CUDA 11.8 could not be fetched (see above)"; exit 1; }; \
	mkdir -p $(KERNELS_SM53_OUT); \
	for f in $(KERNEL_SRC); do \
	  $$nvcc118 -ccbin "$$(command -v g++)" -allow-unsupported-compiler -std=c++14 -O3 -gencode arch=compute_53,code=sm_53 \
	    -fatbin -o $(KERNELS_SM53_OUT)/$$(basename $$f .cu).fatbin $$f || exit 1; \
	done; \
	echo "kernels-sm53: $(words $(KERNEL_SRC)) kernel files compiled for sm_53 with $$($$nvcc118 --version | tail -2 | head -1)"

# llama.cpp itself for the interop tests (java/cli .../interop): its prebuilt CPU libraries from the npm
# registry (node-llama-cpp 3.21.1, checksummed) and native/llamacpp/llama-probe.c compiled against them,
# in target/llamacpp/ (once per clone). Nothing of llama.cpp enters the repository.
llamacpp:
	native/llamacpp/install.sh target/llamacpp

# The official OpenAI client (npm package openai, pinned) for the server's end-to-end test, in target/openai-client/.
openai-client:
	native/openai-client/install.sh target/openai-client

$(KERNEL_OUT)/%.fatbin: cuda-kernels/%.cu $(KERNEL_HDR)
	@mkdir -p $(KERNEL_OUT)
	$(NVCC) $(NVCC_FLAGS) -fatbin $(GENCODE) -o $@ $<

# target/lib is rebuilt from scratch: copy-dependencies never removes jars a changed build no longer needs.
jars:
	rm -rf java/cli/target/lib java/bench/target/lib
	$(MVN) -q package -DskipTests

bin/entrollm: java/cli/src/main/sh/entrollm jars
	@mkdir -p bin
	cp $< $@
	chmod +x $@

# Kernels first, so the CUDA jar embeds them (and its tests check that). Then the CUDA simulator's own
# tests, llama.cpp for the interop tests and the C decoder loops (every decode in the tests goes through them;
# the codec's tests run the Java loops too), then every test: the CPU ones, and the GPU ones on the simulator with each cuBLAS binding
# (none may skip; the count is printed). `make test-gpu` runs the GPU tests on a real GPU.
test: kernels kernels-sm53 cudasim-test llamacpp openai-client native-huffman
	$(MVN) verify -Dentrollm.cudasim=$(abspath $(SIM_OUT)) -Dentrollm.requireLlamaCpp=true -Dentrollm.requireOpenAiClient=true \
	  -Dentrollm.nativeHuffman=$(abspath $(HUFF_NATIVE)) -Dentrollm.requireNativeHuffman=true
	@for b in bytedeco jcublas; do \
	  d=java/cuda/target/cudasim-reports/$$b; \
	  set -- $$(cat $$d/TEST-*.xml 2>/dev/null | sed -n 's/.*<testsuite [^>]*tests="\([0-9]*\)"[^>]*skipped="\([0-9]*\)".*/\1 \2/p' \
	    | awk '{t+=$$1; s+=$$2} END {print t+0, s+0}'); \
	  echo "GPU tests on the CUDA simulator ($$b cuBLAS): $$1 ran, $$2 skipped"; \
	  if [ "$$1" = 0 ] || [ "$$2" != 0 ]; then echo "make test: GPU tests must all run on the simulator"; exit 1; fi; \
	done
	java/fuzz/fuzz.sh $(FUZZ_SECONDS_IN_TEST) $(FUZZ_TARGETS)

# Fuzzing (java/fuzz): every reader of untrusted files, FUZZ_SECONDS each; findings fail the run and are
# kept in target/fuzz/findings/. make test runs each target briefly (FUZZ_SECONDS_IN_TEST) after the
# test suite, which has already replayed every past finding (java/fuzz/regressions/).
# The library for other projects: io.entrollm:entrollm-core:<version> and the other modules, in ~/.m2, each
# with its -sources.jar and -javadoc.jar (profile `library`).
install:
	$(MVN) -q install -DskipTests -Plibrary

FUZZ_SECONDS ?= 600
FUZZ_SECONDS_IN_TEST ?= 30
FUZZ_TARGETS ?= safetensors gguf entro tokenizer config
fuzz:
	$(MVN) -q package -DskipTests -pl java/fuzz -am
	java/fuzz/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# GPU tests only (JUnit tag "gpu"); they skip, saying why, where no CUDA device can be used.
test-gpu: kernels
	$(MVN) verify -P gpu-tests

# A self-contained bundle for GPU hosts with no JDK: jlinked runtime + jars (+ kernels inside) + launcher.
# target/carry/ holds only the tarballs, so it can be carried to the GPU machine as one folder.
DIST_STAGE := target/dist/entrollm
CARRY := target/carry
JLINK_MODULES := java.base,java.logging,jdk.unsupported,jdk.incubator.vector
# The compressibility study (entrollm analyze) and its codec/chart jars stay out of the GPU bundle, which
# must fit the GPU machine's 64 MiB transfer limit together with the repository.
ANALYSIS_ONLY_JARS := entrollm-analysis-* zstd-jni-* lz4-java-* xz-* brotli4j-* native-linux-x86_64-* service-* xchart-* \
  VectorGraphics2D-* animated-gif-lib-* protobuf-java-*
dist: all
	rm -rf $(DIST_STAGE) $(CARRY)/entrollm.tgz
	mkdir -p $(DIST_STAGE)/bin $(DIST_STAGE)/lib $(CARRY)
	$(JAVA_HOME)/bin/jlink --add-modules $(JLINK_MODULES) --strip-debug --no-header-files --no-man-pages \
	  --compress=zip-0 --output $(DIST_STAGE)/runtime
	cp java/cli/target/lib/*.jar java/cli/target/entrollm-cli-*.jar $(DIST_STAGE)/lib/
	cd $(DIST_STAGE)/lib && rm -f $(ANALYSIS_ONLY_JARS)
	cp java/cli/src/main/sh/entrollm $(DIST_STAGE)/bin/entrollm
	[ ! -f $(HUFF_NATIVE) ] || cp $(HUFF_NATIVE) $(DIST_STAGE)/lib/   # the C decoder loops, where a C compiler built them
	tar -C target/dist -czf $(CARRY)/entrollm.tgz entrollm
	@echo "dist: $(CARRY)/entrollm.tgz ($$(du -h $(CARRY)/entrollm.tgz | cut -f1)); unpack, then entrollm/bin/entrollm (LD_LIBRARY_PATH=/usr/local/cuda/lib64)"

# The GPU tests without Maven: JUnit's console launcher + test classes + test dependencies, run with
# the dist's runtime on the GPU host (see docs/GPU.md for the exact commands).
JUNIT_CONSOLE := org.junit.platform:junit-platform-console-standalone:1.14.1
GPU_TESTS := target/dist/entrollm-gpu-tests
gpu-test-bundle: dist
	rm -rf $(GPU_TESTS) $(CARRY)/entrollm-gpu-tests.tgz
	mkdir -p $(GPU_TESTS)/lib
	$(MVN) -q dependency:copy -Dartifact=$(JUNIT_CONSOLE) -DoutputDirectory=$(GPU_TESTS)
	$(MVN) -q -pl java/cuda -am -DskipTests package dependency:copy-dependencies -DincludeScope=test \
	  -DoutputDirectory=$(abspath $(GPU_TESTS))/lib
	@# only what the dist lacks: the dist's lib/ is on the class path too; no jqwik (no properties here),
	@# no byte-buddy (AssertJ needs it only for soft assertions and proxies, which these tests do not use)
	cd $(GPU_TESTS)/lib && for j in *.jar; do [ ! -e $(abspath $(DIST_STAGE))/lib/$$j ] || rm $$j; done && rm -f jqwik-*.jar byte-buddy-*.jar \
	  junit-*.jar opentest4j-*.jar apiguardian-*.jar   # the console-standalone jar carries JUnit itself
	cp -r java/cuda/target/test-classes $(GPU_TESTS)/test-classes
	cp java/cuda/src/test/sh/run-gpu-tests $(GPU_TESTS)/
	tar -C target/dist -czf $(CARRY)/entrollm-gpu-tests.tgz entrollm-gpu-tests
	@echo "gpu-test-bundle: $(CARRY)/entrollm-gpu-tests.tgz ($$(du -h $(CARRY)/entrollm-gpu-tests.tgz | cut -f1))"

# JMH micro-benchmarks of the CPU codec and matrix kernels (not a test; results go to docs/BENCHMARKS.md).
JMH_ARGS ?=
bench-cpu: jars
	$(JAVA_HOME)/bin/java --add-modules jdk.incubator.vector -cp 'java/bench/target/lib/*:java/bench/target/classes' org.openjdk.jmh.Main $(JMH_ARGS)

# The standard suite on the local GPU (inference rows in both residency modes, decode throughput).
# The GPU benchmark suite: sotu-tiny plus synthetic models with real shapes (entrollm synth), every
# format in every residency mode, then the decode kernels. Disk: a model's source plus its four
# quantized formats at a time (mistral-7b: ~35 GB). BENCH_SYNTH= runs sotu-tiny only;
# BENCH_SYNTH_LAYERS=8 cuts the synthetic models to 8 layers (say so when quoting them).
BENCH_DIR ?= target/bench
BENCH_SYNTH ?= smollm-1.7b phi-3-mini mistral-7b
BENCH_SYNTH_LAYERS ?=
BENCH_MODES ?= decoded,compressed,streamed
BENCH_ARGS ?= --prompt-tokens 32 --gen-tokens 16 --repetitions 3
BENCH_SYNTH_DIRS = $(foreach m,$(BENCH_SYNTH),$(BENCH_DIR)/models/$(m))
# The launcher the benchmarks run; on a machine without Maven (the GPU machine) point it at an
# unpacked `make dist` bundle, e.g. ENTROLLM=/tmp/e/entrollm/bin/entrollm, and nothing is built.
ENTROLLM ?= bin/entrollm
BENCH_BUILD := $(if $(filter bin/entrollm,$(ENTROLLM)),all)

synth-models: $(BENCH_BUILD)
	@for m in $(BENCH_SYNTH); do \
	  [ -f $(BENCH_DIR)/models/$$m/config.json ] || $(ENTROLLM) synth $$m $(BENCH_DIR)/models/$$m \
	    $(if $(BENCH_SYNTH_LAYERS),--layers $(BENCH_SYNTH_LAYERS)) || exit 1; \
	done

bench: synth-models
	@mkdir -p $(BENCH_DIR)
	$(ENTROLLM) bench infer test-models/sotu-tiny $(BENCH_SYNTH_DIRS) --device gpu --modes $(BENCH_MODES) $(BENCH_ARGS) \
	  --work-dir $(BENCH_DIR)/formats --timeline $(BENCH_DIR)/timeline \
	  --markdown $(BENCH_DIR)/infer.md --csv $(BENCH_DIR)/infer.csv --json $(BENCH_DIR)/infer.json
	$(ENTROLLM) bench decode --device gpu --json $(BENCH_DIR)/decode.json

# The edge profile (native/jetson/README.md): a 3 GiB GPU memory budget (a 4 GB Jetson less the OS),
# the compressed and streamed modes, models that fit. Runs on any CUDA host: there it shows what the
# budget allows, not a Jetson's speed; on a Jetson build with CUDA_ARCHS=53 (Nano) or 87 (Orin).
JETSON_BUDGET ?= 3GiB
JETSON_SYNTH ?= smollm-1.7b
bench-jetson:
	$(MAKE) synth-models BENCH_SYNTH="$(JETSON_SYNTH)"
	@mkdir -p $(BENCH_DIR)
	$(ENTROLLM) bench infer test-models/sotu-tiny $(foreach m,$(JETSON_SYNTH),$(BENCH_DIR)/models/$(m)) --device gpu \
	  --modes compressed,streamed --gpu-memory-budget $(JETSON_BUDGET) $(BENCH_ARGS) \
	  --work-dir $(BENCH_DIR)/formats --timeline $(BENCH_DIR)/timeline-jetson \
	  --markdown $(BENCH_DIR)/jetson.md --csv $(BENCH_DIR)/jetson.csv --json $(BENCH_DIR)/jetson.json

DEMO_MODEL ?= test-models/sotu-tiny
DEMO_OUT := target/demo
DEMO_PROMPT ?= Fellow-Citizens of the Senate and House of Representatives:
# Generate on the GPU where nvidia-smi sees one, else on the CPU.
DEMO_DEVICE ?= $(shell nvidia-smi -L >/dev/null 2>&1 && echo gpu || echo cpu)
demo: all
	bin/entrollm inspect $(DEMO_MODEL) --no-stats
	@mkdir -p $(DEMO_OUT)
	bin/entrollm compress $(DEMO_MODEL) -o $(DEMO_OUT)/sotu-tiny-u8.entro --bits 8 --scheme mixed
	bin/entrollm run $(DEMO_OUT)/sotu-tiny-u8.entro --prompt "$(DEMO_PROMPT)" --max-tokens 48 --device $(DEMO_DEVICE)

clean:
	$(MVN) -q clean
	rm -rf bin target
